// One conformance suite for every Storage backend, plus the durability model of MemoryStorage and the fault
// injector.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>

#include "engine/storage/storage_test_util.h"
#include "storage/fault_injection.h"
#include "storage/storage_memory.h"

namespace quiver::storage {
namespace {

void Conformance(Storage& s) {
  CHECK(s.List()->empty());
  CHECK_FALSE(*s.Exists("a"));
  CHECK(s.ReadFile("a").status().IsNotFound());

  // Create, append, read back.
  auto f = s.Create("a");
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("hello ").ok());
  REQUIRE((*f)->Append(std::string(100000, 'x')).ok());  // larger than any write buffer
  REQUIRE((*f)->Append("!").ok());
  CHECK((*f)->size() == 100007);
  REQUIRE((*f)->Sync().ok());
  REQUIRE((*f)->Close().ok());
  CHECK((*f)->Append("late").code() == StatusCode::kFailedPrecondition);
  auto data = s.ReadFile("a");
  REQUIRE(data.ok());
  CHECK(data->size() == 100007);
  CHECK(data->substr(0, 6) == "hello ");
  CHECK(data->back() == '!');
  CHECK(*s.FileSize("a") == 100007);
  CHECK(*s.Exists("a"));

  // Create refuses an existing name.
  CHECK(s.Create("a").status().code() == StatusCode::kAlreadyExists);

  // Append to an existing file.
  auto g = s.OpenAppend("a");
  REQUIRE(g.ok());
  CHECK((*g)->size() == 100007);
  REQUIRE((*g)->Append("more").ok());
  REQUIRE((*g)->Close().ok());
  CHECK(s.ReadFile("a")->substr(100007) == "more");
  CHECK(s.OpenAppend("missing").status().IsNotFound());

  // Map gives the same bytes (or is not supported).
  auto m = s.Map("a");
  if (m.ok()) {
    CHECK((*m)->bytes().size() == 100011);
    CHECK((*m)->bytes()[0] == 'h');
  } else {
    CHECK(m.status().code() == StatusCode::kNotSupported);
  }

  // Truncate, rename over an existing name, remove, list sorted.
  REQUIRE(s.Truncate("a", 5).ok());
  CHECK(*s.ReadFile("a") == "hello");
  REQUIRE(s.WriteFileAtomic("b", "bee").ok());
  REQUIRE(s.WriteFileAtomic("c", "sea").ok());
  CHECK(*s.List() == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(s.Rename("c", "b").ok());
  CHECK(*s.ReadFile("b") == "sea");
  CHECK(*s.List() == std::vector<std::string>{"a", "b"});
  REQUIRE(s.Remove("a").ok());
  CHECK(s.Remove("a").IsNotFound());
  CHECK(s.Rename("a", "z").IsNotFound());
  REQUIRE(s.SyncDir().ok());

  // Exclusive lock.
  auto lock = s.Lock("LOCK");
  REQUIRE(lock.ok());
  auto second = s.Lock("LOCK");
  CHECK(second.status().code() == StatusCode::kBusy);
  lock->reset();
  CHECK(s.Lock("LOCK").ok());
}

TEST_CASE("storage conformance: memory backend", "[storage]") {
  MemoryStorage s;
  Conformance(s);
  CHECK(s.Create("bad/name").status().message() == "bad file name 'bad/name'");
}

TEST_CASE("storage conformance: POSIX backend", "[storage]") {
  testing::TempDir dir;
  auto s = OpenPosixStorage(dir.path() + "/db");
  REQUIRE(s.ok());
  Conformance(**s);
  CHECK((*s)->Create("bad/name").status().IsInvalidArgument());
  // A second storage on the same folder cannot take the lock while the first holds it.
  auto other = OpenPosixStorage(dir.path() + "/db");
  REQUIRE(other.ok());
  auto l1 = (*s)->Lock("LOCK");
  REQUIRE(l1.ok());
  CHECK((*other)->Lock("LOCK").status().code() == StatusCode::kBusy);
  const std::vector<std::string> names = *(*s)->List();
  for (const auto& name : names) REQUIRE((*s)->Remove(name).ok());
  l1->reset();
}

#if !defined(__EMSCRIPTEN__)
TEST_CASE("POSIX storage: a lock held by another process, and a path through a file, are named",
          "[storage]") {
  testing::TempDir dir;
  auto s = OpenPosixStorage(dir.path() + "/db");
  REQUIRE(s.ok());
  // flock locks belong to the open file: a second open of LOCK holding it is what another process looks like.
  const std::string lock_path = dir.path() + "/db/LOCK";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto refused = (*s)->Lock("LOCK");
  CHECK(refused.status().code() == StatusCode::kBusy);
  CHECK(refused.status().message() == dir.path() + "/db is already open for writing by another process");
  ::close(fd);
  // The refusal left nothing behind in this process: the lock is free to take once the other holder is gone.
  auto taken = (*s)->Lock("LOCK");
  CHECK(taken.ok());
  taken->reset();
  REQUIRE((*s)->Remove("LOCK").ok());

  // A database folder whose path runs through a regular file.
  REQUIRE((*s)->WriteFileAtomic("file", "x").ok());
  auto through = OpenPosixStorage(dir.path() + "/db/file/sub");
  CHECK(through.status().code() == StatusCode::kIOError);
  CHECK(through.status().message() == "create folder " + dir.path() + "/db/file/sub: Not a directory");
  REQUIRE((*s)->Remove("file").ok());
  ::rmdir((dir.path() + "/db").c_str());
}
#endif

TEST_CASE("memory storage: a crash keeps exactly what was synced", "[storage]") {
  MemoryStorage s;
  auto f = *s.Create("log");
  REQUIRE(s.SyncDir().ok());
  REQUIRE(f->Append("durable").ok());
  REQUIRE(f->Sync().ok());
  REQUIRE(f->Append("-lost").ok());
  auto g = *s.Create("unsynced-name");  // created after the last SyncDir
  REQUIRE(g->Append("x").ok());
  REQUIRE(g->Sync().ok());
  s.SimulateCrash();
  CHECK(*s.ReadFile("log") == "durable");
  CHECK_FALSE(*s.Exists("unsynced-name"));

  // A torn write keeps a prefix of the unsynced tail.
  auto h = *s.OpenAppend("log");
  REQUIRE(h->Append("0123456789").ok());
  s.SimulateCrash(7);
  std::string torn = *s.ReadFile("log");
  CHECK(torn.substr(0, 7) == "durable");
  CHECK(torn.size() <= 17);
  CHECK(std::string("durable0123456789").substr(0, torn.size()) == torn);
}

TEST_CASE("fault injection fails the chosen operation and, when sticky, the rest", "[storage]") {
  MemoryStorage base;
  FaultInjectionStorage s(&base);
  s.FailAt(3);
  auto f = s.Create("x");  // 1
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("a").ok());  // 2
  Status st = (*f)->Sync();         // 3
  CHECK(st.IsIOError());
  CHECK(st.message() == "injected fault: sync x: input/output error");
  CHECK(s.failed());
  CHECK((*f)->Append("b").IsIOError());
  CHECK(s.SyncDir().IsIOError());
  s.Disarm();
  CHECK(s.SyncDir().ok());
  s.FailAt(1, /*sticky=*/false);
  CHECK(s.Remove("x").IsIOError());
  CHECK(s.Remove("x").ok());
  CHECK(s.operations() == 8);
}

TEST_CASE("fault injection: ENOSPC, short writes, failed syncs, and a filter by operation kind", "[storage]") {
  MemoryStorage base;
  FaultInjectionStorage s(&base);
  auto f = s.Create("x");
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("synced").ok());
  REQUIRE((*f)->Sync().ok());

  // Only appends count and can fail.
  s.SetOpFilter(FaultInjectionStorage::kAppend);
  s.SetFaultKind(FaultInjectionStorage::FaultKind::kShortWrite);
  const uint64_t before = s.matched();
  s.FailAt(2, /*sticky=*/false);
  REQUIRE((*f)->Append("ab").ok());
  REQUIRE((*f)->Sync().ok());  // not counted
  Status st = (*f)->Append("0123456789");
  CHECK(st.code() == StatusCode::kResourceExhausted);
  CHECK(st.message() == "injected fault: short write to x: 5 of 10 bytes, no space left on device");
  CHECK(*base.ReadFile("x") == "syncedab01234");
  CHECK(s.matched() - before == 2);

  // A failed fsync drops some of the unsynced tail (none to all of it), never synced bytes.
  s.SetOpFilter(FaultInjectionStorage::kSync);
  s.SetFaultKind(FaultInjectionStorage::FaultKind::kFailedSync);
  REQUIRE((*f)->Sync().ok());
  REQUIRE((*f)->Append("unsynced").ok());
  s.FailAt(1, /*sticky=*/false);
  st = (*f)->Sync();
  CHECK(st.IsIOError());
  const std::string kept = *base.ReadFile("x");
  CHECK(kept.size() >= 13);
  CHECK(std::string("syncedab01234unsynced").substr(0, kept.size()) == kept);

  // ENOSPC at any operation.
  s.SetOpFilter(FaultInjectionStorage::kAllOps);
  s.SetFaultKind(FaultInjectionStorage::FaultKind::kNoSpace);
  s.FailAt(1, /*sticky=*/false);
  st = s.Rename("x", "y");
  CHECK(st.code() == StatusCode::kResourceExhausted);
  CHECK(st.message() == "injected fault: rename x: no space left on device");
  CHECK(*base.Exists("x"));
  CHECK(s.Rename("x", "y").ok());
}

}  // namespace
}  // namespace quiver::storage

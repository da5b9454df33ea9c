#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "storage/fault_injection.h"
#include "storage/storage_memory.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"
#include "storage/wal_writer.h"

namespace quiver::storage {
namespace {

template <typename W>
Status AppendSync(W& w, std::string_view payload) {
  QUIVER_RETURN_IF_ERROR(w->Append(payload));
  return w->Sync();
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<std::string> ReadAll(const std::string& file, bool newest, WalTail* tail, Status* status) {
  std::vector<std::string> out;
  *status = ReadWalFile(
      Bytes(file), "wal-1.log", 1, newest,
      [&](std::string_view payload, uint64_t) {
        out.emplace_back(payload);
        return Status::OK();
      },
      tail);
  return out;
}

TEST_CASE("wal: records round-trip", "[storage][wal]") {
  MemoryStorage s;
  auto w = WalWriter::Create(&s, "wal-1.log", 1);
  REQUIRE(w.ok());
  std::vector<std::string> records = {"first", "", std::string(70000, 'z'), "last"};
  for (const auto& r : records) REQUIRE(AppendSync((*w), r).ok());
  REQUIRE((*w)->Close().ok());
  WalTail tail;
  Status st;
  auto got = ReadAll(*s.ReadFile("wal-1.log"), true, &tail, &st);
  REQUIRE(st.ok());
  CHECK(got == records);
  CHECK_FALSE(tail.torn);
  CHECK(tail.valid_bytes == s.ReadFile("wal-1.log")->size());
}

TEST_CASE("wal: a torn tail ends the newest log cleanly at every cut", "[storage][wal]") {
  MemoryStorage s;
  auto w = *WalWriter::Create(&s, "wal-1.log", 1);
  REQUIRE(AppendSync(w, "alpha").ok());
  REQUIRE(AppendSync(w, "beta").ok());
  REQUIRE(w->Close().ok());
  const std::string full = *s.ReadFile("wal-1.log");
  const size_t after_first = kWalFileHeaderSize + kWalRecordHeaderSize + 5;
  for (size_t cut = 0; cut < full.size(); ++cut) {
    WalTail tail;
    Status st;
    auto got = ReadAll(full.substr(0, cut), true, &tail, &st);
    INFO("cut " << cut);
    REQUIRE(st.ok());
    CHECK(tail.torn == (cut != after_first && cut != kWalFileHeaderSize));
    CHECK(got.size() == (cut < after_first ? 0u : 1u));
    // The same damage in an older, completed log is corruption.
    if (tail.torn) {
      ReadAll(full.substr(0, cut), false, &tail, &st);
      CHECK(st.IsCorruption());
    }
  }
}

TEST_CASE("wal: a record failing its checksum is never returned", "[storage][wal]") {
  MemoryStorage s;
  auto w = *WalWriter::Create(&s, "wal-1.log", 1);
  REQUIRE(AppendSync(w, "one").ok());
  REQUIRE(AppendSync(w, "two").ok());
  REQUIRE(AppendSync(w, "three").ok());
  REQUIRE(w->Close().ok());
  const std::string full = *s.ReadFile("wal-1.log");
  for (size_t i = kWalFileHeaderSize; i < full.size(); ++i) {
    std::string bad = full;
    bad[i] ^= 0x20;
    WalTail tail;
    Status st;
    auto got = ReadAll(bad, true, &tail, &st);
    INFO("byte " << i);
    REQUIRE(st.ok());
    CHECK(tail.torn);
    for (const auto& r : got) CHECK((r == "one" || r == "two" || r == "three"));
    CHECK(got.size() < 3);
    Status old;
    ReadAll(bad, false, &tail, &old);
    CHECK(old.IsCorruption());
    CHECK(old.message().find("wal-1.log: ") == 0);
  }
  // A header naming another log number is corruption even in the newest file.
  std::string other = full;
  EncodeFixed64(&other[8], 2);
  EncodeFixed32(&other[16], crc32c::Value(other.data(), 16));
  WalTail tail;
  Status st;
  ReadAll(other, true, &tail, &st);
  CHECK(st.IsCorruption());
}

#if !defined(__EMSCRIPTEN__)
TEST_CASE("wal: concurrent appends are all logged, whole and in some order (group commit)",
          "[storage][wal]") {
  MemoryStorage s;
  auto w = *WalWriter::Create(&s, "wal-1.log", 1);
  // Catch2's assertions are not thread-safe: each writer keeps its failures, the main thread checks them.
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> failures(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Status st = AppendSync(w, "t" + std::to_string(t) + "-" + std::to_string(i));
        if (!st.ok()) failures[t].push_back(st.ToString());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) CHECK(f == std::vector<std::string>{});
  REQUIRE(w->Close().ok());
  WalTail tail;
  Status st;
  auto got = ReadAll(*s.ReadFile("wal-1.log"), true, &tail, &st);
  REQUIRE(st.ok());
  CHECK(got.size() == 800);
  std::vector<int> next(4, 0);
  for (const auto& r : got) {
    int t = r[1] - '0';
    CHECK(r == "t" + std::to_string(t) + "-" + std::to_string(next[t]++));  // each writer's order is kept
  }
}
#endif

TEST_CASE("wal: a failed sync poisons the writer", "[storage][wal]") {
  MemoryStorage base;
  FaultInjectionStorage s(&base);
  auto w = *WalWriter::Create(&s, "wal-1.log", 1);
  s.FailAt(2);  // the append succeeds, its sync fails
  CHECK(AppendSync(w, "x").IsIOError());
  s.Disarm();
  CHECK(AppendSync(w, "y").IsIOError());
}

TEST_CASE("wal: reopening continues a log, closing syncs", "[storage][wal]") {
  MemoryStorage s;
  {
    auto w = *WalWriter::Create(&s, "wal-1.log", 1);
    REQUIRE(w->Append("a").ok());
    REQUIRE(w->Close().ok());  // syncs
    CHECK(w->Sync().ok());     // nothing left to sync
    CHECK(w->Append("late").code() == StatusCode::kFailedPrecondition);
  }
  s.SimulateCrash();
  {
    auto w = *WalWriter::Reopen(&s, "wal-1.log", 1);
    REQUIRE(AppendSync(w, "b").ok());
    REQUIRE(w->Append("unsynced").ok());
    CHECK(w->unsynced() > 0);
  }  // the destructor closes, and closing syncs
  WalTail tail;
  Status st;
  auto got = ReadAll(*s.ReadFile("wal-1.log"), true, &tail, &st);
  CHECK(got == std::vector<std::string>{"a", "b", "unsynced"});
}

}  // namespace
}  // namespace quiver::storage

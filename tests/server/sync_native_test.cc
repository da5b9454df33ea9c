// End to end: native SyncClients on HttpTransport (bindings-native/sync) syncing through a real quiverd on a
// loopback port. Two replicas converge (dense and sparse vectors, payload keys, concurrent edits); quiverd is
// killed with SIGKILL between rounds and restarted on the same folder and port, and nothing acknowledged is
// lost. The binary comes from $QUIVERD (set by tests/server/CMakeLists.txt).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "engine/sync/sync_test_util.h"
#include "http_transport.h"
#include "payload/json_util.h"

namespace quiver {
namespace {

using testing::SyncNow;

// quiverd in a child process.
class Quiverd {
 public:
  explicit Quiverd(std::string data) : data_(std::move(data)) {}
  ~Quiverd() { Kill(); }

  // Starts it (on `port`, 0 for any) and waits for its "listening" line.
  void Start(uint16_t port = 0) {
    const char* binary = std::getenv("QUIVERD");
    REQUIRE(binary != nullptr);
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      const std::string p = std::to_string(port);
      execl(binary, binary, "--data", data_.c_str(), "--port", p.c_str(), "--log-requests=false",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string pending;
    char buf[4096];
    for (;;) {
      const ssize_t n = read(out[0], buf, sizeof(buf));
      REQUIRE(n > 0);  // quiverd exited before listening
      pending.append(buf, static_cast<size_t>(n));
      size_t nl;
      bool listening = false;
      while ((nl = pending.find('\n')) != std::string::npos) {
        boost::json::value line = boost::json::parse(pending.substr(0, nl));
        pending.erase(0, nl + 1);
        if (line.at("event") == "listening") {
          port_ = static_cast<uint16_t>(line.at("port").to_number<uint64_t>());
          listening = true;
        }
      }
      if (listening) break;
    }
    stdout_ = out[0];
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (stdout_ >= 0) close(stdout_);
    stdout_ = -1;
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string data_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  uint16_t port_ = 0;
};

CollectionConfig Config() {
  CollectionConfig c;
  c.vectors[""] = VectorParams{3, Distance::kEuclid, IndexKind::kHnsw, std::nullopt, std::nullopt};
  c.sparse_vectors["text"] = SparseVectorParams{};
  return c;
}

PointInput P(uint64_t id, std::vector<float> v, std::optional<SparseVector> sparse, std::string payload) {
  PointInput p;
  p.id = PointId::Number(id);
  p.vectors[""] = std::move(v);
  if (sparse) p.sparse_vectors["text"] = std::move(*sparse);
  p.payload = std::move(payload);
  return p;
}

struct Replica {
  std::shared_ptr<testing::FakeClock> clock = std::make_shared<testing::FakeClock>();
  std::unique_ptr<Database> db;
  std::unique_ptr<sync::HttpTransport> transport;
  std::unique_ptr<sync::SyncClient> client;

  Replica(uint64_t id, const std::string& url) {
    clock->ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
    db = testing::OpenSyncDatabase(id, clock);
    REQUIRE(db->CreateCollection("docs", Config()).ok());
    sync::HttpTransportOptions t;
    t.base_url = url;
    t.timeout_ms = 5000;
    auto made = sync::HttpTransport::Create(t);
    REQUIRE(made.ok());
    transport = std::move(*made);
    sync::SyncClientOptions o;
    o.collections = {"docs"};
    o.client = "sync_native_test";
    o.max_push_bytes = 2000;  // several batches per round
    o.get_token = [](bool) -> Result<std::string> { return std::string(); };
    client = std::make_unique<sync::SyncClient>(&db->core(), transport.get(), o);
  }
  std::shared_ptr<Collection> C() { return *db->GetCollection("docs"); }
  std::string Digest() { return testing::Digest(*db, "docs"); }
};

std::string PayloadOf(Collection& c, uint64_t id) {
  auto got = c.Get(std::vector<PointId>{PointId::Number(id)}, PayloadSelector::All(), VectorSelector::All());
  REQUIRE(got.ok());
  if (got->empty()) return "<none>";
  auto parsed = payload::ParsePayloadText(*(*got)[0].payload);
  REQUIRE(parsed.ok());
  return payload::CanonicalJson(boost::json::value(*parsed));
}

TEST_CASE("native sync client and quiverd: convergence, SIGKILL and restart", "[sync][server]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("quiver-sync-native-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  Quiverd server(dir + "/db");
  server.Start();

  Replica a(0xa1, server.url()), b(0xb2, server.url());
  std::vector<PointInput> first;
  for (uint64_t i = 0; i < 60; ++i) {
    first.push_back(P(i, {float(i), 1, 2}, SparseVector{{uint32_t(i % 7), 100}, {1.0f, 0.5f}},
                      R"({"n":)" + std::to_string(i) + "}"));
  }
  REQUIRE(a.C()->Upsert(first).ok());
  REQUIRE(SyncNow(*a.client).ok());
  REQUIRE(SyncNow(*b.client).ok());
  CHECK(b.C()->Info().points_count == 60);
  CHECK(PayloadOf(*b.C(), 42) == R"({"n":42})");
  auto rec =
      b.C()->Get(std::vector<PointId>{PointId::Number(9)}, PayloadSelector::None(), VectorSelector::All());
  REQUIRE(rec.ok());
  CHECK((*rec)[0].sparse_vectors["text"].indices == std::vector<uint32_t>{2, 100});

  // Concurrent edits of different keys of one point, and a delete.
  a.clock->ms += 5;
  b.clock->ms += 5;
  REQUIRE(a.C()->SetPayload(PointsSelector::Ids({PointId::Number(1)}), R"({"x":1})").ok());
  REQUIRE(b.C()->SetPayload(PointsSelector::Ids({PointId::Number(1)}), R"({"y":2})").ok());
  REQUIRE(b.C()->Delete(PointsSelector::Ids({PointId::Number(2)})).ok());
  REQUIRE(SyncNow(*a.client).ok());
  REQUIRE(SyncNow(*b.client).ok());
  REQUIRE(SyncNow(*a.client).ok());
  CHECK(PayloadOf(*a.C(), 1) == R"({"n":1,"x":1,"y":2})");
  CHECK(a.Digest() == b.Digest());
  CHECK(a.C()->Info().points_count == 59);

  // SIGKILL: A keeps writing offline; its round fails without changing anything it holds.
  const uint16_t port = server.port();
  server.Kill();
  a.clock->ms += 5;
  std::vector<PointInput> second;
  for (uint64_t i = 100; i < 140; ++i)
    second.push_back(P(i, {1, float(i), 0}, std::nullopt, R"({"late":true})"));
  REQUIRE(a.C()->Upsert(second).ok());
  Status offline = SyncNow(*a.client);
  CHECK(offline.IsIOError());
  CHECK(a.client->RetryDelayMs() > 0);

  // Restarted on the same folder and port: the pushes of before are there, the outbox goes up now.
  server.Start(port);
  REQUIRE(SyncNow(*a.client).ok());
  REQUIRE(SyncNow(*b.client).ok());
  CHECK(b.C()->Info().points_count == 99);
  CHECK(PayloadOf(*b.C(), 120) == R"({"late":true})");
  CHECK(a.Digest() == b.Digest());

  // Killed again right after a round acknowledged by the server: nothing of it is lost.
  b.clock->ms += 5;
  REQUIRE(b.C()->SetPayload(PointsSelector::Ids({PointId::Number(120)}), R"({"seen":"b"})").ok());
  REQUIRE(SyncNow(*b.client).ok());
  server.Kill();
  server.Start(port);
  REQUIRE(SyncNow(*a.client).ok());
  CHECK(PayloadOf(*a.C(), 120) == R"({"late":true,"seen":"b"})");
  CHECK(a.client->stats().resyncs ==
        1);  // only the first snapshot: the epoch stayed, no resync after restarts
  CHECK(a.client->stats().digest_mismatches == 0);
  CHECK(b.client->stats().digest_mismatches == 0);
  CHECK(a.transport->connections() >= 3);
  server.Kill();
  std::filesystem::remove_all(dir);
}

TEST_CASE("native sync transport: bad base URLs are refused by name", "[sync]") {
  auto https = sync::HttpTransport::Create({"https://127.0.0.1:6333"});
  CHECK(https.status().code() == StatusCode::kNotSupported);
  auto ftp = sync::HttpTransport::Create({"ftp://127.0.0.1"});
  CHECK(ftp.status().IsInvalidArgument());
  auto port = sync::HttpTransport::Create({"http://127.0.0.1:99999"});
  CHECK(port.status().IsInvalidArgument());
  CHECK(std::string(port.status().message()).find("port") != std::string::npos);
  // Nothing listens there: the request fails with an I/O error naming the address.
  auto closed = sync::HttpTransport::Create({"http://127.0.0.1:1"});
  REQUIRE(closed.ok());
  sync::SyncRequest r;
  r.method = "GET";
  r.path = "/v1/blobs/x";
  bool called = false;
  (*closed)->Send(r, [&](Result<sync::SyncResponse> resp) {
    called = true;
    CHECK(resp.status().IsIOError());
    CHECK(std::string(resp.status().message()).find("127.0.0.1:1") != std::string::npos);
  });
  CHECK(called);
}

}  // namespace
}  // namespace quiver

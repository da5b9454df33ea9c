// End to end: native SyncClients on HttpTransport (bindings-native/sync) syncing through a real quiverd on a
// loopback port. Two replicas converge (dense and sparse vectors, payload keys, concurrent edits); quiverd is
// killed with SIGKILL between rounds and restarted on the same folder and port, and nothing acknowledged is
// lost. The binary comes from $QUIVERD (set by tests/server/CMakeLists.txt).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
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
  // `args`: more command-line options (TLS, keys).
  explicit Quiverd(std::string data, std::vector<std::string> args = {})
      : data_(std::move(data)), args_(std::move(args)) {}
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
      std::vector<const char*> argv = {binary, "--data", data_.c_str(), "--port", p.c_str(), "--log-requests=false"};
      for (const std::string& a : args_) argv.push_back(a.c_str());
      argv.push_back(nullptr);
      execv(binary, const_cast<char* const*>(argv.data()));
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
  std::string url(const std::string& scheme = "http", const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(port_);
  }

 private:
  std::string data_;
  std::vector<std::string> args_;
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

  Replica(uint64_t id, const std::string& url, const std::string& ca_file = "") {
    clock->ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
    db = testing::OpenSyncDatabase(id, clock);
    REQUIRE(db->CreateCollection("docs", Config()).ok());
    sync::HttpTransportOptions t;
    t.base_url = url;
    t.ca_file = ca_file;
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
  auto ftp = sync::HttpTransport::Create({"ftp://127.0.0.1"});
  CHECK(ftp.status().IsInvalidArgument());
  auto port = sync::HttpTransport::Create({"http://127.0.0.1:99999"});
  CHECK(port.status().IsInvalidArgument());
  CHECK(std::string(port.status().message()).find("port") != std::string::npos);
  auto ca_on_http = sync::HttpTransport::Create({.base_url = "http://127.0.0.1:1", .ca_file = "ca.pem"});
  CHECK(ca_on_http.status().IsInvalidArgument());
  auto no_ca = sync::HttpTransport::Create({.base_url = "https://127.0.0.1:1", .ca_file = "/nonexistent/ca.pem"});
  CHECK(no_ca.status().IsNotFound());
  CHECK(std::string(no_ca.status().message()).find("/nonexistent/ca.pem") != std::string::npos);
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

// Forwards to another transport, and kills quiverd (from another thread, `delay_us` after sending) while the
// `nth` request of one kind ("push" or "pull") is in flight. Records the ids of every pushed point the server
// acknowledged (a 200 to the push that carried it).
class KillingTransport final : public sync::Transport {
 public:
  KillingTransport(sync::Transport* inner, Quiverd* server, std::string action, int nth, int delay_us)
      : inner_(inner), server_(server), action_("/" + std::move(action)), nth_(nth), delay_us_(delay_us) {}

  void Send(sync::SyncRequest r, std::function<void(Result<sync::SyncResponse>)> done) override {
    const bool push = r.path.ends_with("/push");
    std::vector<uint64_t> ids;
    if (push) {
      const boost::json::value body = boost::json::parse(r.body);
      for (const auto& p : body.at("points").as_array()) ids.push_back(p.at("id").to_number<uint64_t>());
    }
    std::thread killer;
    if (r.path.ends_with(action_) && ++seen_ == nth_) {
      killer = std::thread([this] {
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
        server_->Kill();
      });
    }
    inner_->Send(std::move(r), [&](Result<sync::SyncResponse> resp) {
      if (killer.joinable()) killer.join();
      if (push && resp.ok() && resp->status == 200) acked.insert(ids.begin(), ids.end());
      done(std::move(resp));
    });
    if (killer.joinable()) killer.join();
  }

  std::set<uint64_t> acked;

 private:
  sync::Transport* inner_;
  Quiverd* server_;
  std::string action_;
  int nth_;
  int delay_us_;
  int seen_ = 0;
};

bool Has(Collection& c, uint64_t id) {
  auto got = c.Get(std::vector<PointId>{PointId::Number(id)}, PayloadSelector::None(), VectorSelector::None());
  return got.ok() && !got->empty();
}

// quiverd killed `delay_us` after the 40th push batch and the 5th pull page were sent: before the server read
// them, while it applied or answered them, or after it answered, as the timing falls.
void KillDuringPushAndPull(int delay_us) {
  INFO("kill " << delay_us << " us after sending");
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("quiver-sync-kill-" + std::to_string(getpid()) + "-" + std::to_string(delay_us));
  std::filesystem::remove_all(dir);
  Quiverd server(dir + "/db");
  server.Start();
  const uint16_t port = server.port();
  Replica a(0xe1, server.url()), c(0xe3, server.url());
  REQUIRE(SyncNow(*c.client).ok());  // C holds a cursor: what comes later reaches it through pull pages

  // A large push (2000 points in batches of about 2 KB), quiverd killed while the 40th batch is in flight.
  std::vector<PointInput> points;
  for (uint64_t i = 0; i < 2000; ++i) {
    points.push_back(P(i, {float(i), float(i % 13), 1}, std::nullopt,
                       R"({"i":)" + std::to_string(i) + R"(,"text":"a payload long enough to fill batches"})"));
  }
  REQUIRE(a.C()->Upsert(points).ok());
  KillingTransport push_killer(a.transport.get(), &server, "push", 40, delay_us);
  sync::SyncClientOptions o;
  o.collections = {"docs"};
  o.max_push_bytes = 2000;
  o.get_token = [](bool) -> Result<std::string> { return std::string(); };
  {
    sync::SyncClient killed(&a.db->core(), &push_killer, o);
    CHECK(SyncNow(killed).IsIOError());
  }
  INFO("acknowledged before the kill: " << push_killer.acked.size());
  CHECK(push_killer.acked.size() >= 39);  // 39 batches at least
  CHECK(push_killer.acked.size() < 2000);

  // Restarted: a fresh replica sees every acknowledged point before A pushes again.
  server.Start(port);
  {
    Replica fresh(0xe2, server.url());
    REQUIRE(SyncNow(*fresh.client).ok());
    size_t missing = 0;
    for (uint64_t id : push_killer.acked) missing += !Has(*fresh.C(), id);
    CHECK(missing == 0);
  }
  REQUIRE(SyncNow(*a.client).ok());

  // C pulls the 2000 points in pages of 200; quiverd killed around the 5th.
  KillingTransport pull_killer(c.transport.get(), &server, "pull", 5, delay_us);
  o.pull_limit = 200;
  {
    sync::SyncClient killed(&c.db->core(), &pull_killer, o);
    CHECK(SyncNow(killed).IsIOError());
  }
  const uint64_t partial = c.C()->Info().points_count;
  CHECK(partial >= 800);  // 4 or 5 pages applied, each with its cursor
  CHECK(partial < 2000);
  server.Start(port);
  REQUIRE(SyncNow(*c.client).ok());
  REQUIRE(SyncNow(*a.client).ok());
  CHECK(c.C()->Info().points_count == 2000);
  CHECK(a.C()->Info().points_count == 2000);
  CHECK(c.Digest() == a.Digest());
  CHECK(PayloadOf(*c.C(), 1999) == R"({"i":1999,"text":"a payload long enough to fill batches"})");
  CHECK(c.client->stats().digest_mismatches == 0);
  CHECK(c.client->stats().resyncs == 1);  // its first, empty snapshot only: the restarts kept the epoch
  server.Kill();
  std::filesystem::remove_all(dir);
}

TEST_CASE("quiverd killed with SIGKILL during a large push and during a pull: nothing acknowledged is lost",
          "[sync][server][crash]") {
  for (int delay_us : {0, 300, 3000}) KillDuringPushAndPull(delay_us);
}

std::string SendError(sync::HttpTransport& t) {
  sync::SyncRequest r;
  r.method = "POST";
  r.path = "/v1/replicas";
  r.body = R"({"replica":"00000000000000c3","client":"t"})";
  std::string error = "<answered>";
  t.Send(r, [&](Result<sync::SyncResponse> resp) {
    if (!resp.ok()) error = std::string(resp.status().message());
  });
  return error;
}

std::unique_ptr<sync::HttpTransport> Transport(sync::HttpTransportOptions o) {
  o.timeout_ms = 5000;
  auto t = sync::HttpTransport::Create(o);
  REQUIRE(t.ok());
  return std::move(*t);
}

TEST_CASE("native sync over https: trusted by a CA file, refused certificates say why", "[sync][server][tls]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("quiver-sync-tls-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // A throwaway certificate for the name "localhost" only (no IP address in it), as the server TLS tests make.
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string openssl = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + cert +
                              "' -days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null";
  REQUIRE(std::system(openssl.c_str()) == 0);
  std::ofstream(dir + "/garbage.pem") << "not a certificate\n";
  Quiverd server(dir + "/db", {"--tls-cert", cert, "--tls-key", key});
  server.Start();

  // Trusted through the CA file and reached by the certificate's name: two replicas converge over https.
  Replica a(0xc1, server.url("https", "localhost"), cert), b(0xc2, server.url("https", "localhost"), cert);
  std::vector<PointInput> points;
  for (uint64_t i = 0; i < 20; ++i) points.push_back(P(i, {float(i), 0, 1}, std::nullopt, R"({"tls":true})"));
  REQUIRE(a.C()->Upsert(points).ok());
  REQUIRE(SyncNow(*a.client).ok());
  REQUIRE(SyncNow(*b.client).ok());
  CHECK(b.C()->Info().points_count == 20);
  CHECK(PayloadOf(*b.C(), 7) == R"({"tls":true})");
  CHECK(a.Digest() == b.Digest());
  CHECK(a.transport->connections() == 1);  // kept alive across the round's requests

  // The system's trust store does not know a self-signed certificate.
  auto system_store = Transport({.base_url = server.url("https", "localhost")});
  std::string e = SendError(*system_store);
  CHECK_THAT(e, Catch::Contains("certificate verify failed") && Catch::Contains("self-signed certificate") &&
                    Catch::Contains("the system's certificates"));
  // Trusted, but reached by an address the certificate does not name.
  auto by_ip = Transport({.base_url = server.url("https", "127.0.0.1"), .ca_file = cert});
  CHECK_THAT(SendError(*by_ip), Catch::Contains("certificate verify failed") && Catch::Contains("IP address mismatch"));
  // ... which a test may waive, explicitly.
  auto unchecked = Transport({.base_url = server.url("https", "127.0.0.1"), .verify_peer = false});
  CHECK(SendError(*unchecked) == "<answered>");
  // A CA file that holds no certificate; plain http to the TLS port.
  auto garbage = sync::HttpTransport::Create({.base_url = server.url("https"), .ca_file = dir + "/garbage.pem"});
  CHECK(garbage.status().IsInvalidArgument());
  CHECK_THAT(std::string(garbage.status().message()), Catch::Contains("holds no PEM certificate"));
  auto plain = Transport({.base_url = server.url("http", "localhost")});
  CHECK_THAT(SendError(*plain), Catch::Contains("sync: reading the answer to POST /sync/v1/replicas"));

  // A failed handshake leaves the client's state alone: the round fails, the next one with trust succeeds.
  Replica c(0xc3, server.url("https", "127.0.0.1"), cert);
  Status refused = SyncNow(*c.client);
  CHECK(refused.IsIOError());
  CHECK_THAT(std::string(refused.message()), Catch::Contains("IP address mismatch"));
  server.Kill();
  std::filesystem::remove_all(dir);
}

TEST_CASE("native sync transport: a server that never answers fails the request at its timeout", "[sync]") {
  // A listening socket nobody accepts on: the kernel completes the connection and takes the request.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  auto t = sync::HttpTransport::Create(
      {.base_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), .timeout_ms = 300});
  REQUIRE(t.ok());
  CHECK_THAT(SendError(**t), Catch::Contains("sync: reading the answer to POST /sync/v1/replicas") &&
                                 Catch::Contains("timeout"));
  ::close(fd);
}

TEST_CASE("native sync transport: Interrupt ends a long-poll at once, Resume allows requests again", "[sync][server]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("quiver-sync-interrupt-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  Quiverd server(dir + "/db");
  server.Start();
  Replica a(0xd1, server.url());
  REQUIRE(SyncNow(*a.client).ok());
  // A pull that would wait 20 s for a change nobody makes.
  sync::SyncClientOptions o;
  o.collections = {"docs"};
  o.wait_ms = 20'000;
  o.get_token = [](bool) -> Result<std::string> { return std::string(); };
  sync::SyncClient live(&a.db->core(), a.transport.get(), o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    a.transport->Interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  Status s = SyncNow(live);
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  CHECK(s.IsIOError());
  CHECK_THAT(std::string(s.message()), Catch::Contains("interrupted"));
  CHECK(took < std::chrono::seconds(10));
  CHECK(SendError(*a.transport) == "sync: interrupted");
  a.transport->Resume();
  REQUIRE(SyncNow(*a.client).ok());
  server.Kill();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quiver

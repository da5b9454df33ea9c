// quiverd: Quiver's server node. Opens the database folder (with the engine's single-writer lock and a thread
// pool for background index builds), serves Qdrant's REST API on it until SIGTERM or SIGINT, then drains
// in-flight requests, flushes and exits. docs/server.md describes it.
#include <unistd.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "config.h"
#include "http_server.h"
#include "quiver/database.h"
#include "quiver/thread_pool.h"
#include "service.h"
#include "version.h"

namespace {

void Event(boost::json::object line) {
  std::string text = boost::json::serialize(line) + "\n";
  [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
}

int Fail(const std::string& message) {
  std::cerr << "quiverd: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace quiver;
  using namespace quiver::server;
  bool help = false;
  auto config = LoadConfig(argc, argv, &help);
  if (help) {
    std::cout << ConfigUsage();
    return 0;
  }
  if (!config.ok()) return Fail(config.status().ToString());

  ThreadPool pool(config->threads);
  DatabaseOptions options;
  options.path = config->data;
  options.executor = &pool;
  options.durability = config->durability == "sync"      ? Durability::kSync
                       : config->durability == "batched" ? Durability::kBatched
                                                         : Durability::kNone;
  // The sync horizon and the engine's tombstone purge follow one retention (docs/sync.md).
  options.tombstone_retention_ms = config->sync_retention_days * 24ull * 3600 * 1000;
  auto db = Database::Open(options);
  if (!db.ok()) return Fail("cannot open " + config->data + ": " + db.status().ToString());

  Service service(*config, **db);
  if (Status s = service.Start(); !s.ok()) return Fail(s.ToString());
  HttpServer server(service, *config);
  if (Status s = server.Listen(); !s.ok()) return Fail(s.ToString());

  std::mutex mu;
  std::condition_variable cv;
  bool drained = false;
  server.OnSignal([&] {
    std::lock_guard<std::mutex> lock(mu);
    drained = true;
    cv.notify_all();
  });
  server.Start();
  Event({{"event", "listening"},
         {"host", config->host},
         {"port", server.port()},
         {"tls", config->tls()},
         {"data", config->data},
         {"version", kQuiverVersion},
         {"qdrant_api", kQdrantApiVersion}});

  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return drained; });
  }
  server.Stop();
  server.Join();
  Status flushed = (*db)->Flush();
  Status closed = (*db)->Close();
  Event({{"event", "stopped"},
         {"flush", flushed.ok() ? "ok" : flushed.ToString()},
         {"close", closed.ok() ? "ok" : closed.ToString()}});
  return flushed.ok() && closed.ok() ? 0 : 1;
}

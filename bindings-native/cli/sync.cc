// quiver sync: keeps collections of the database folder in step with a quiverd server (docs/sync.md), once or
// live. The engine's SyncClient does the work over the native HttpTransport; this file is the command's policy:
// which collections, where the credential comes from, what a round prints, when live sync retries or gives up,
// and how SIGINT/SIGTERM end it cleanly (the request in flight is interrupted; every step the client finished is
// already committed).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli.h"
#include "http_transport.h"
#include "sync/client.h"

namespace quiver::cli {
namespace {

// The signal handler only writes the signal's number to a pipe (async-signal-safe); a watcher thread reads it
// and stops the sync from outside the handler.
int g_signal_pipe[2] = {-1, -1};

void OnSignal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &b, 1);
}

struct Totals {
  uint64_t pushed = 0, pulled = 0, rejected = 0, snapshots = 0;
};

std::string Moved(const Totals& t) {
  std::string s = "pushed " + std::to_string(t.pushed) + " point" + (t.pushed == 1 ? "" : "s") + ", pulled " +
                  std::to_string(t.pulled) + " point" + (t.pulled == 1 ? "" : "s");
  // A replica's first round (and a resync) installs the server's snapshot; its points are not counted as pulled.
  if (t.snapshots) s += ", " + std::to_string(t.snapshots) + " snapshot" + (t.snapshots == 1 ? "" : "s") + " installed";
  if (t.rejected) {
    s += ", " + std::to_string(t.rejected) + " rejected by the server (its version kept)";
  }
  return s;
}

Totals Delta(const sync::SyncStats& now, const sync::SyncStats& before) {
  return {now.pushed_points - before.pushed_points, now.pulled_points - before.pulled_points,
          now.rejected_points - before.rejected_points, now.resyncs - before.resyncs};
}

// Live sync retries after failures that may pass (the server is down or restarting, a timeout); others (a wrong
// key, a name taken with another configuration, a missing collection) need the user.
bool Transient(const Status& s) { return s.IsIOError(); }

}  // namespace

int CmdSync(Context& ctx, const Args& args) {
  const std::string url = args.Get("url");
  if (url.empty()) throw UsageError("sync needs --url (the quiverd server, http://host:port or https://...)");
  const bool live = args.Has("live");
  if (args.Has("wait-ms") && !live) throw UsageError("--wait-ms is for --live");
  const size_t wait_ms = GetSize(args, "wait-ms", 25'000);
  if (wait_ms == 0 || wait_ms > 25'000) throw UsageError("option --wait-ms expects 1 to 25000");

  std::vector<std::string> collections = args.positional;
  if (collections.empty()) collections = ctx.db().ListCollections();
  if (collections.empty()) {
    return Fail(Status::NotFound("the database has no collections to sync (create them first)"), "sync");
  }
  for (const std::string& name : collections) {
    auto got = ctx.db().GetCollection(name);
    if (!got.ok()) return Fail(got.status(), "sync");
  }

  sync::HttpTransportOptions t;
  t.base_url = url;
  t.ca_file = args.Get("ca");
  t.user_agent = "quiver-cli";
  auto transport = sync::HttpTransport::Create(t);
  if (!transport.ok()) return Fail(transport.status(), "sync");

  std::string key = args.Get("api-key");
  if (key.empty()) {
    if (const char* env = std::getenv("QUIVER_API_KEY")) key = env;
  }
  sync::SyncClientOptions o;
  o.collections = collections;
  o.client = "quiver-cli";
  o.wait_ms = live ? wait_ms : 0;
  o.get_token = [key](bool) -> Result<std::string> { return key; };
  sync::SyncClient client(&ctx.db().core(), transport->get(), o);

  // SIGINT / SIGTERM: stop after (or by interrupting) the round in flight.
  if (::pipe2(g_signal_pipe, O_CLOEXEC) != 0) return Fail(Status::IOError("sync: cannot create a pipe"));
  std::atomic<bool> stop{false};
  std::atomic<int> stop_signal{0};
  std::mutex mu;
  std::condition_variable wake;
  sync::HttpTransport* tr = transport->get();
  std::thread watcher([&] {
    unsigned char b = 0;
    while (::read(g_signal_pipe[0], &b, 1) < 0 && errno == EINTR) {
    }
    if (b == 0) return;  // closed by us: the sync is over
    stop_signal = b;
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    wake.notify_all();
    tr->Interrupt();
  });
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int, old_term;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  const sync::SyncStats start = client.stats();
  Status last = Status::OK();
  uint64_t rounds = 0;
  std::string names;
  for (const std::string& n : collections) names += (names.empty() ? "" : ", ") + n;
  if (live) std::cout << "syncing " << names << " with " << url << " live (Ctrl-C stops)" << std::endl;
  for (;;) {
    const sync::SyncStats before = client.stats();
    Status s = Status::Internal("sync: the round did not end");
    client.Sync([&](Status r) { s = std::move(r); });
    ++rounds;
    if (stop) break;
    if (!live) {
      last = s;
      break;
    }
    const Totals moved = Delta(client.stats(), before);
    if (moved.pushed || moved.pulled || moved.rejected || moved.snapshots) std::cout << Moved(moved) << std::endl;
    if (!s.ok()) {
      if (!Transient(s)) {
        last = s;
        break;
      }
      const uint64_t delay = client.RetryDelayMs();
      std::cerr << "quiver: sync: " << s.ToString() << " (retrying in " << delay << " ms)" << std::endl;
      std::unique_lock<std::mutex> lock(mu);
      wake.wait_for(lock, std::chrono::milliseconds(delay), [&] { return stop.load(); });
      if (stop) break;
    }
  }

  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  ::close(g_signal_pipe[1]);
  watcher.join();
  ::close(g_signal_pipe[0]);
  g_signal_pipe[0] = g_signal_pipe[1] = -1;
  client.Close();

  const Totals total = Delta(client.stats(), start);
  if (stop) {
    std::cout << "stopped by " << (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") << " after " << rounds
              << " round" << (rounds == 1 ? "" : "s") << ": " << Moved(total) << std::endl;
    return kExitOk;
  }
  if (!last.ok()) return Fail(last, "sync with " + url);
  std::string counts;
  for (const std::string& n : collections) {
    auto c = ctx.db().GetCollection(n);
    if (c.ok()) counts += (counts.empty() ? "" : ", ") + n + " " + std::to_string((*c)->Info().points_count);
  }
  std::cout << "synced " << names << " with " << url << ": " << Moved(total) << "; points now: " << counts
            << std::endl;
  return kExitOk;
}

}  // namespace quiver::cli

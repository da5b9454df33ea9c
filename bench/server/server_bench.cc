// quiverd over loopback against the same search in process, in one run: the synthetic 100,000 x 384 cosine
// set at the smallest ef whose recall@10 reaches 0.95; search QPS and p50/p99 latency at 1, 8 and 32
// keep-alive connections (load from bench/server/load_client.cc, a closed-loop Beast client on one thread),
// in-process QPS of Collection::Search and of api::Call on the same JSON bodies (1 thread and all hardware
// threads), and upsert throughput over HTTP and in process. Configurations are interleaved rep by rep;
// medians are reported, with the CPU time quiverd and the load generator spent per request.
//
//   server_bench --quiverd build/native-release/bindings-native/quiverd [--cache .cache/bench] [--reps 3]
//                [--seconds 5] [--connections 1,8,32] [--quiverd-args "--threads 4 --log-requests=true"]
//                [--pin 0,1 [--pinned-only]]
//
// --pin S,C adds the pinned mode to each rep: quiverd with one serving thread on CPU S, the load generator on
// CPU C, and the in-process search on CPU S with one thread, so that ratio compares one core's work with one
// core's work, with no load generator competing for it. (Unpinned, the load generator takes its CPU from the
// same cores the server and the in-process rows use; both modes are reported.) Pinned, the load generator runs
// twice per connection count: sleeping in epoll_wait between answers, as unpinned, and spinning
// (LoadSpec::spin), which spares quiverd the cost of waking it on every answer.
//
// The collection is built once into CACHE/server-bench-db (M=16, ef_construct=200) and reused. quiverd serves
// it (request logs off); the in-process runs open the same folder read-only beside it. quiverd is restarted
// for each block of a rep (it holds the folder's writer lock, so the pinned and unpinned servers cannot run
// side by side).
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ann_datasets.h"
#include "load_client.h"
#include "quiver/api.h"
#include "quiver/database.h"
#include "quiver/thread_pool.h"

extern char** environ;

namespace quiver::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kK = 10;
constexpr const char* kCollection = "bench";

std::string Arg(int argc, char** argv, const std::string& key, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + key) return argv[i + 1];
  }
  return fallback;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "server_bench: %s\n", what.c_str());
  std::exit(1);
}
void Check(const Status& s, const char* what) {
  if (!s.ok()) Fail(std::string(what) + ": " + s.ToString());
}
void Log(const std::string& line) { std::fprintf(stderr, "[server_bench] %s\n", line.c_str()); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string VectorJson(const float* v, uint32_t dim) {
  std::string out = "[";
  char buf[32];
  for (uint32_t i = 0; i < dim; ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? "," : "", v[i]);
    out += buf;
  }
  return out + "]";
}

// Builds CACHE/server-bench-db unless it is complete.
void EnsureDatabase(const Dataset& ds, const std::string& dir) {
  const std::string stamp = dir + "/.server-bench-complete";
  if (std::ifstream(stamp).good()) return;
  std::filesystem::remove_all(dir);
  Log("building " + dir + " (" + std::to_string(ds.base_count) + " points, M=16, ef_construct=200)");
  ThreadPool pool;
  DatabaseOptions options;
  options.path = dir;
  options.executor = &pool;
  options.durability = Durability::kBatched;
  auto db = Database::Open(options);
  Check(db.status(), "open");
  CollectionConfig config;
  config.vectors[""] = VectorParams{ds.dim, Distance::kCosine};
  config.hnsw.m = 16;
  config.hnsw.ef_construct = 200;
  Check((*db)->CreateCollection(kCollection, config), "create");
  auto c = (*db)->GetCollection(kCollection);
  for (size_t start = 0; start < ds.base_count; start += 1000) {
    const size_t n = std::min<size_t>(1000, ds.base_count - start);
    std::vector<PointId> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back(PointId::Number(start + i));
    Check((*c)->UpsertDense(ids, "", {&ds.base[start * ds.dim], n * ds.dim}), "upsert");
  }
  const double t0 = std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  Check((*c)->Optimize(), "optimize");
  Log("indexed in " +
      std::to_string(std::chrono::duration<double>(Clock::now().time_since_epoch()).count() - t0) + " s");
  Check((*db)->Close(), "close");
  std::ofstream(stamp) << ds.base_count << "\n";
}

std::vector<uint32_t> IdsOf(const std::vector<ScoredPoint>& hits) {
  std::vector<uint32_t> out;
  for (const ScoredPoint& h : hits) out.push_back(static_cast<uint32_t>(h.id.number()));
  return out;
}

// The CPUs this process may use, as it started (the pinned mode narrows a thread's set, then restores it).
cpu_set_t g_all_cpus;

void PinThread(int cpu) {
  if (cpu < 0) return;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0) Fail("cannot pin to CPU " + std::to_string(cpu));
}
void UnpinThread() { pthread_setaffinity_np(pthread_self(), sizeof(g_all_cpus), &g_all_cpus); }

// User plus system CPU time of a process (all its threads), from /proc/PID/stat.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::stringstream fields(text.substr(paren + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i >= 14) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double ThreadCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct InProcess {
  double qps = 0;
  double cpu_us = 0;  // CPU time per search, microseconds
};

// Queries per second of `search(q)` over `threads` threads for `seconds`, each thread on `cpu` if >= 0.
template <typename F>
InProcess InProcessQps(size_t threads, double seconds, size_t queries, F search, int cpu = -1) {
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> cpu_ns{0};
  const auto end =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      PinThread(cpu);
      const double cpu0 = ThreadCpuSeconds();
      uint64_t n = 0;
      for (size_t q = t * queries / threads; Clock::now() < end; q = (q + 1) % queries, ++n) search(q);
      done += n;
      cpu_ns += static_cast<uint64_t>((ThreadCpuSeconds() - cpu0) * 1e9);
    });
  }
  for (auto& th : pool) th.join();
  const double n = static_cast<double>(done.load());
  return {n / seconds, n > 0 ? static_cast<double>(cpu_ns.load()) / n * 1e-3 : 0};
}

struct Server {
  pid_t pid = -1;
  uint16_t port = 0;
};

// With `cpu` >= 0, quiverd runs one serving thread on that CPU (it inherits the affinity of the thread that
// spawns it, so every thread it starts stays there).
Server StartQuiverd(const std::string& binary, const std::string& data, const std::string& log,
                    const std::string& extra, int cpu) {
  std::vector<std::string> args = {binary,          "--data", data, "--port", "0", "--log-requests=false",
                                   "--max-body-mb", "256"};
  if (cpu >= 0) args.insert(args.end(), {"--threads", "1"});
  std::stringstream words(extra);
  for (std::string w; words >> w;) args.push_back(w);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Server s;
  PinThread(cpu);
  const int spawned = posix_spawn(&s.pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  UnpinThread();
  if (spawned != 0) Fail("cannot start " + binary);
  posix_spawn_file_actions_destroy(&actions);
  for (int i = 0; i < 600 && s.port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(log);
    std::string line;
    if (std::getline(in, line) && line.find("listening") != std::string::npos) {
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      if (!ec) s.port = static_cast<uint16_t>(v.at("port").to_number<int64_t>());
    }
  }
  if (s.port == 0) Fail("quiverd did not start (see " + log + ")");
  return s;
}

void StopQuiverd(const Server& s) {
  ::kill(s.pid, SIGTERM);
  int status = 0;
  ::waitpid(s.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Fail("quiverd did not stop cleanly");
}

double Recall(const Dataset& ds, const std::vector<std::vector<uint32_t>>& found) {
  return RecallAtK(ds, found, kK);
}

}  // namespace

int Main(int argc, char** argv) {
  const std::string quiverd = Arg(argc, argv, "quiverd", "");
  if (quiverd.empty()) Fail("pass --quiverd PATH");
  const std::string cache = Arg(argc, argv, "cache", ".cache/bench");
  const int reps = std::atoi(Arg(argc, argv, "reps", "3").c_str());
  const double seconds = std::atof(Arg(argc, argv, "seconds", "5").c_str());
  std::vector<size_t> conns;
  {
    std::stringstream in(Arg(argc, argv, "connections", "1,8,32"));
    for (std::string item; std::getline(in, item, ',');) conns.push_back(std::stoul(item));
  }
  const size_t hw = std::max(1u, std::thread::hardware_concurrency());
  int server_cpu = -1, client_cpu = -1;
  if (const std::string pin = Arg(argc, argv, "pin", ""); !pin.empty()) {
    if (std::sscanf(pin.c_str(), "%d,%d", &server_cpu, &client_cpu) != 2 || server_cpu < 0 || client_cpu < 0 ||
        server_cpu == client_cpu) {
      Fail("--pin takes two different CPUs, SERVER,CLIENT (e.g. 0,1)");
    }
  }
  if (pthread_getaffinity_np(pthread_self(), sizeof(g_all_cpus), &g_all_cpus) != 0) Fail("cannot read CPU set");
  if (server_cpu >= 0 && (!CPU_ISSET(server_cpu, &g_all_cpus) || !CPU_ISSET(client_cpu, &g_all_cpus))) {
    Fail("--pin names a CPU this process may not use");
  }
  const bool pinned_only = std::find_if(argv + 1, argv + argc, [](const char* a) {
                            return std::string(a) == "--pinned-only";
                          }) != argv + argc;
  if (pinned_only && server_cpu < 0) Fail("--pinned-only needs --pin");
  std::filesystem::create_directories(cache);

  Check(GenerateSynthetic(cache), "generate");
  auto loaded = LoadDataset("synthetic-384", cache);
  Check(loaded.status(), "load");
  Dataset ds = std::move(*loaded);
  Log("ground truth (computed once, cached)");
  Check(EnsureGroundTruth(&ds, cache, true), "ground truth");
  const std::string dir = cache + "/server-bench-db";
  EnsureDatabase(ds, dir);

  // The in-process side opens the folder read-only, beside quiverd.
  const std::string quiverd_log = cache + "/server-bench-quiverd.log";
  const std::string quiverd_args = Arg(argc, argv, "quiverd-args", "");
  DatabaseOptions ro;
  ro.path = dir;
  ro.read_only = true;
  auto db = Database::Open(ro);
  Check(db.status(), "open read-only");
  auto collection = (*db)->GetCollection(kCollection);
  Check(collection.status(), "collection");
  Collection& c = **collection;

  // The smallest ef reaching recall@10 >= 0.95, in process.
  size_t ef = 0;
  double recall = 0;
  for (size_t candidate : {10, 16, 20, 24, 28, 32, 40, 48, 64, 96, 128, 192, 256, 384, 512}) {
    std::vector<std::vector<uint32_t>> found;
    for (size_t q = 0; q < ds.query_count; ++q) {
      SearchRequest r;
      r.vector.assign(&ds.queries[q * ds.dim], &ds.queries[(q + 1) * ds.dim]);
      r.limit = kK;
      r.hnsw_ef = candidate;
      auto hits = c.Search(r);
      Check(hits.status(), "search");
      found.push_back(IdsOf(*hits));
    }
    recall = Recall(ds, found);
    Log("ef=" + std::to_string(candidate) + " recall@10=" + std::to_string(recall));
    if (recall >= 0.95) {
      ef = candidate;
      break;
    }
  }
  if (ef == 0) Fail("no ef reaches recall 0.95");

  std::vector<SearchRequest> requests(ds.query_count);
  std::vector<std::string> bodies(ds.query_count), raw(ds.query_count);
  for (size_t q = 0; q < ds.query_count; ++q) {
    requests[q].vector.assign(&ds.queries[q * ds.dim], &ds.queries[(q + 1) * ds.dim]);
    requests[q].limit = kK;
    requests[q].hnsw_ef = ef;
    bodies[q] = "{\"vector\":" + VectorJson(&ds.queries[q * ds.dim], ds.dim) +
                ",\"limit\":10,\"params\":{\"hnsw_ef\":" + std::to_string(ef) + "}}";
    raw[q] = RawRequest("POST", std::string("/collections/") + kCollection + "/points/search", bodies[q]);
  }

  // Upserts: 20,000 base vectors in JSON batches of 100 (ids shifted so each rep writes new points).
  constexpr size_t kUpsertPoints = 20000, kBatch = 100, kUpsertConnections = 8;
  auto upsert_bodies = [&](uint64_t id_base) {
    std::vector<std::string> out;
    for (size_t start = 0; start < kUpsertPoints; start += kBatch) {
      std::string body = "{\"points\":[";
      for (size_t i = start; i < start + kBatch; ++i) {
        body += (i > start ? "," : "") + std::string("{\"id\":") + std::to_string(id_base + i) +
                ",\"vector\":" + VectorJson(&ds.base[i * ds.dim], ds.dim) + "}";
      }
      out.push_back(body + "]}");
    }
    return out;
  };

  // p50/p99 in ms; server_us/client_us: CPU microseconds quiverd and the load generator spent per answer (for
  // the in-process rows, server_us is the CPU time per search).
  std::map<std::string, std::vector<double>> qps, p50, p99, server_us, client_us;
  std::vector<std::string> order;  // report rows in the order first measured
  auto row = [&](const std::string& name) -> std::vector<double>& {
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
    return qps[name];
  };
  double http_recall = 0;
  uint64_t failures = 0;
  auto in_process_row = [&](const std::string& name, InProcess m) {
    row(name).push_back(m.qps);
    server_us[name].push_back(m.cpu_us);
  };
  // Search load over `n` connections; the load generator runs on the calling thread.
  auto http_row = [&](const std::string& name, const Server& server, size_t n, bool spin) {
    LoadSpec spec;
    spec.port = server.port;
    spec.connections = n;
    spec.spin = spin;
    spec.seconds = seconds;
    spec.requests = raw;
    const double cpu0 = ProcessCpuSeconds(server.pid);
    LoadResult r = RunLoad(spec);
    const double served = ProcessCpuSeconds(server.pid) - cpu0;
    row(name).push_back(r.Qps());
    p50[name].push_back(r.Percentile(50) * 1e3);
    p99[name].push_back(r.Percentile(99) * 1e3);
    server_us[name].push_back(r.answered ? served / r.answered * 1e6 : 0);
    client_us[name].push_back(r.answered ? r.cpu_seconds / r.answered * 1e6 : 0);
    failures += r.failed;
    return r;
  };
  const std::string pin_suffix =
      server_cpu < 0 ? "" : " on CPU " + std::to_string(server_cpu) + ", load on CPU " + std::to_string(client_cpu);
  for (int rep = 0; rep < reps; ++rep) {
    Log("rep " + std::to_string(rep + 1) + "/" + std::to_string(reps));
    if (!pinned_only) {
      Server server = StartQuiverd(quiverd, dir, quiverd_log, quiverd_args, -1);
      in_process_row("in-process Collection::Search, 1 thread",
                     InProcessQps(1, seconds, ds.query_count, [&](size_t q) { (void)c.Search(requests[q]); }));
      in_process_row("in-process Collection::Search, " + std::to_string(hw) + " threads",
                     InProcessQps(hw, seconds, ds.query_count, [&](size_t q) { (void)c.Search(requests[q]); }));
      in_process_row("in-process api::Call (same JSON), " + std::to_string(hw) + " threads",
                     InProcessQps(hw, seconds, ds.query_count, [&](size_t q) {
                       auto r = api::Call(c, api::Operation::kSearchPoints, {}, bodies[q]);
                       if (r.ok()) (void)api::Print(*r);
                     }));
      for (size_t n : conns) {
        const std::string name = "quiverd, " + std::to_string(n) + (n == 1 ? " connection" : " connections");
        LoadResult r = http_row(name, server, n, false);
        if (rep == 0 && n == conns.front()) {
          std::vector<std::vector<uint32_t>> found(ds.query_count);
          for (size_t q = 0; q < ds.query_count; ++q) {
            boost::system::error_code ec;
            auto v = boost::json::parse(r.first_answers[q], ec);
            if (ec) continue;
            for (const auto& hit : v.at("result").as_array())
              found[q].push_back(static_cast<uint32_t>(hit.at("id").to_number<uint64_t>()));
          }
          http_recall = Recall(ds, found);
        }
      }
      // Upsert throughput: in process through api::Call (one writer; writes are serialised), then over HTTP.
      {
        const std::string scratch = cache + "/server-bench-upsert";
        std::filesystem::remove_all(scratch);
        ThreadPool writer_pool;  // as quiverd has, for background index builds
        DatabaseOptions o;
        o.path = scratch;
        o.executor = &writer_pool;
        auto wdb = Database::Open(o);
        Check(wdb.status(), "open scratch");
        Check(api::Call(**wdb, api::Operation::kCreateCollection, {"u", "", ""},
                        R"({"vectors":{"size":384,"distance":"Cosine"}})")
                  .status(),
              "create");
        const auto bodies_u = upsert_bodies(0);
        std::atomic<size_t> next{0};
        std::atomic<bool> ok{true};
        const auto t0 = Clock::now();
        std::vector<std::thread> writers;
        for (size_t w = 0; w < kUpsertConnections; ++w) {
          writers.emplace_back([&] {
            for (size_t i; (i = next.fetch_add(1)) < bodies_u.size();) {
              ok = ok && api::Call(**wdb, api::Operation::kUpsertPoints, {"u", "", ""}, bodies_u[i]).ok();
            }
          });
        }
        for (auto& t : writers) t.join();
        if (!ok) Fail("in-process upsert failed");
        row("upsert in process, api::Call from 8 threads (points/s)")
            .push_back(kUpsertPoints / std::chrono::duration<double>(Clock::now() - t0).count());
        (void)(*wdb)->Close();
        std::filesystem::remove_all(scratch);
      }
      {
        const std::string name = std::string("upsert") + std::to_string(rep);
        LoadSpec create;
        create.port = server.port;
        create.each_once = true;
        create.requests = {
            RawRequest("DELETE", "/collections/" + name, ""),  // left by an interrupted run
            RawRequest("PUT", "/collections/" + name, R"({"vectors":{"size":384,"distance":"Cosine"}})")};
        failures += RunLoad(create).failed;
        LoadSpec spec;
        spec.port = server.port;
        spec.connections = kUpsertConnections;
        spec.each_once = true;
        for (const auto& b : upsert_bodies(0))
          spec.requests.push_back(RawRequest("PUT", "/collections/" + name + "/points?wait=true", b));
        LoadResult r = RunLoad(spec);
        failures += r.failed;
        row("upsert via quiverd, 8 connections (points/s)").push_back(r.completed * kBatch / r.seconds);
        LoadSpec drop;
        drop.port = server.port;
        drop.each_once = true;
        drop.requests = {RawRequest("DELETE", "/collections/" + name, "")};
        failures += RunLoad(drop).failed;
      }
      StopQuiverd(server);
    }

    if (server_cpu >= 0) {
      // Pinned: one core's search in process against one serving thread on that core, loaded from the other.
      Server pinned = StartQuiverd(quiverd, dir, quiverd_log, quiverd_args, server_cpu);
      const std::string on = " on CPU " + std::to_string(server_cpu);
      in_process_row("pinned: in-process Collection::Search, 1 thread" + on,
                     InProcessQps(
                         1, seconds, ds.query_count, [&](size_t q) { (void)c.Search(requests[q]); }, server_cpu));
      in_process_row("pinned: in-process api::Call (same JSON), 1 thread" + on,
                     InProcessQps(
                         1, seconds, ds.query_count,
                         [&](size_t q) {
                           auto r = api::Call(c, api::Operation::kSearchPoints, {}, bodies[q]);
                           if (r.ok()) (void)api::Print(*r);
                         },
                         server_cpu));
      PinThread(client_cpu);
      for (size_t n : conns) {
        for (bool spin : {false, true}) {
          http_row("pinned: quiverd --threads 1" + pin_suffix + (spin ? " (spinning)" : " (sleeping)") + ", " +
                       std::to_string(n) + (n == 1 ? " connection" : " connections"),
                   pinned, n, spin);
        }
      }
      UnpinThread();
      StopQuiverd(pinned);
    }
  }

  // Report.
  const std::string best_in_process = "in-process Collection::Search, " + std::to_string(hw) + " threads";
  const std::string one_thread = "in-process Collection::Search, 1 thread";
  std::printf(
      "\n#### quiverd search over loopback: synthetic-384 (100000 x 384, cosine), k=10, ef=%zu, %d reps x "
      "%.0f s\n\n",
      ef, reps, seconds);
  std::printf("recall@10 in process %.4f, over HTTP %.4f; failed requests: %llu\n\n", recall, http_recall,
              static_cast<unsigned long long>(failures));
  auto cell = [](const std::map<std::string, std::vector<double>>& m, const std::string& name, const char* f) {
    auto it = m.find(name);
    if (it == m.end()) return std::string();
    char buf[32];
    std::snprintf(buf, sizeof(buf), f, Median(it->second));
    return std::string(buf);
  };
  auto print_row = [&](const std::string& name, std::initializer_list<double> bases) {
    const double m = Median(qps[name]);
    std::printf("| %s | %.0f | %s | %s | %s | %s |", name.c_str(), m, cell(p50, name, "%.3f").c_str(),
                cell(p99, name, "%.3f").c_str(), cell(server_us, name, "%.1f").c_str(),
                cell(client_us, name, "%.1f").c_str());
    for (double b : bases) std::printf(" %.2fx |", m / b);
    std::printf("\n");
  };
  std::printf(
      "| configuration | QPS (median) | p50 ms | p99 ms | CPU us/req: quiverd or in process | load generator CPU us/req | / in-process %zu "
      "threads | / in-process 1 thread |\n|---|---|---|---|---|---|---|---|\n",
      hw);
  const double base = Median(qps[best_in_process]), base1 = Median(qps[one_thread]);
  for (const std::string& name : order) {
    if (name.rfind("upsert", 0) == 0 || name.rfind("pinned", 0) == 0) continue;
    print_row(name, {base, base1});
  }
  if (pinned_only) std::printf("(unpinned rows skipped: --pinned-only)\n");
  if (server_cpu >= 0) {
    const std::string pinned_base =
        "pinned: in-process Collection::Search, 1 thread on CPU " + std::to_string(server_cpu);
    std::printf(
        "\nPinned: quiverd (one serving thread) and the in-process search on CPU %d, the load generator on CPU "
        "%d.\n\n| configuration | QPS (median) | p50 ms | p99 ms | CPU us/req: quiverd or in process | load generator CPU us/req | / "
        "in-process on the same CPU |\n|---|---|---|---|---|---|---|\n",
        server_cpu, client_cpu);
    const double pb = Median(qps[pinned_base]);
    for (const std::string& name : order) {
      if (name.rfind("pinned", 0) == 0) print_row(name, {pb});
    }
  }
  std::printf("\n| upsert (20,000 x 384 in JSON batches of 100, durable) | points/s (median) |\n|---|---|\n");
  for (const std::string& name : order) {
    if (name.rfind("upsert", 0) == 0) std::printf("| %s | %.0f |\n", name.c_str(), Median(qps[name]));
  }
  std::printf("\nper-rep QPS:\n");
  for (const std::string& name : order) {
    std::printf("  %s:", name.c_str());
    for (double v : qps[name]) std::printf(" %.0f", v);
    std::printf("\n");
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace quiver::bench

int main(int argc, char** argv) { return quiver::bench::Main(argc, argv); }

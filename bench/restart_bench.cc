// Short-lived writers: does background work keep up when every process is killed after a second or two?
//
// Serverless runtimes run a writer for a moment and kill it. This program plays that pattern through the public
// C API: each round a child process opens the database (threads, segment_points, durability as given), upserts
// batches of random vectors until the parent kills it with SIGKILL a random 0.5-1.5 s after the open returned
// (the open's own time is reported apart: it grows with the data), and the parent then
// opens the database read-only and reads the collection's statistics. What it reports per round: points stored,
// segments, and the share of vectors not yet in a graph index (searched by exact scan). With merges that make
// progress across restarts, the segment count and the unindexed share stay bounded; with merges that restart
// from scratch each time, both grow without end.
//
//   build/native-release/bench/restart_bench --rounds 200 --threads 2 --segment-points 500 [--rate 1000]
//                                            [--dir D] [--dim 384]
// --rate caps each writer's points per second: a writer faster than the index builds of the threads it has leaves
// an unindexed backlog whatever the merge policy does, so the policy is judged at a rate the threads can index.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "quiver.h"

namespace {

struct Args {
  int rounds = 200;
  std::string threads = "2";
  std::string segment_points = "500";
  std::string durability = "sync";
  int dim = 384;
  int batch = 50;
  int rate = 0;  // points per second a writer writes at most (0: as fast as it can)
  std::string dir;
};

const char* Value(int argc, char** argv, int* i) {
  if (*i + 1 >= argc) {
    std::fprintf(stderr, "restart_bench: %s needs a value\n", argv[*i]);
    std::exit(2);
  }
  return argv[++*i];
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--rounds") a.rounds = std::atoi(Value(argc, argv, &i));
    else if (k == "--threads") a.threads = Value(argc, argv, &i);
    else if (k == "--segment-points") a.segment_points = Value(argc, argv, &i);
    else if (k == "--durability") a.durability = Value(argc, argv, &i);
    else if (k == "--dim") a.dim = std::atoi(Value(argc, argv, &i));
    else if (k == "--batch") a.batch = std::atoi(Value(argc, argv, &i));
    else if (k == "--rate") a.rate = std::atoi(Value(argc, argv, &i));
    else if (k == "--dir") a.dir = Value(argc, argv, &i);
    else {
      std::fprintf(stderr, "restart_bench: unknown argument %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

void Check(int rc, const char* what, qv_database* db) {
  if (rc == 0) return;
  std::fprintf(stderr, "restart_bench: %s failed: %s (%s)\n", what, qv_status_name(rc), db ? qv_db_errmsg(db) : "");
  std::exit(3);
}

qv_options* Options(const Args& a, bool read_only) {
  qv_options* o = nullptr;
  qv_options_create(&o);
  qv_options_set(o, "threads", a.threads.c_str());
  qv_options_set(o, "segment_points", a.segment_points.c_str());
  qv_options_set(o, "durability", a.durability.c_str());
  if (read_only) qv_options_set(o, "read_only", "true");
  return o;
}

// The child: writes until killed. Ids continue from the points already stored, so every round adds new points.
[[noreturn]] void Writer(const Args& a, int round, int ready_fd) {
  qv_options* o = Options(a, false);
  qv_database* db = nullptr;
  char* err = nullptr;
  if (int rc = qv_open(a.dir.c_str(), o, &db, &err); rc != 0) {
    std::fprintf(stderr, "restart_bench: open failed: %s\n", err ? err : qv_status_name(rc));
    _exit(3);
  }
  if (qv_db_collection_exists(db, "c") != 1) Check(qv_db_create_collection(db, "c", a.dim, QV_DISTANCE_COSINE), "create", db);
  qv_collection* col = nullptr;
  Check(qv_db_collection(db, "c", &col), "collection", db);
  uint64_t next = 0;
  Check(qv_collection_count(col, nullptr, &next), "count", db);
  const char opened = 1;
  if (write(ready_fd, &opened, 1) != 1) _exit(5);
  std::mt19937_64 rng(round);
  std::normal_distribution<float> normal;
  std::vector<float> vectors(size_t(a.batch) * a.dim);
  std::vector<uint64_t> ids(a.batch);
  const auto started = std::chrono::steady_clock::now();
  for (uint64_t written = 0;; written += a.batch) {
    if (a.rate > 0) std::this_thread::sleep_until(started + std::chrono::microseconds(written * 1'000'000 / a.rate));
    for (float& x : vectors) x = normal(rng);
    for (int i = 0; i < a.batch; ++i) ids[i] = next++;
    if (qv_collection_upsert(col, nullptr, ids.data(), vectors.data(), a.batch, a.dim, nullptr) != 0) _exit(4);
  }
}

// A top-level number field of the C API's JSON answers (the bench reads four counters; no JSON library needed).
uint64_t Field(const char* json, const char* key) {
  const std::string quoted = std::string("\"") + key + "\":";
  const char* at = std::strstr(json, quoted.c_str());
  if (!at) {
    std::fprintf(stderr, "restart_bench: no %s in %s\n", key, json);
    std::exit(3);
  }
  return std::strtoull(at + quoted.size(), nullptr, 10);
}

struct Stats {
  uint64_t points = 0, segments = 0, indexed = 0, unindexed = 0;
};

Stats Read(const Args& a) {
  qv_options* o = Options(a, true);
  qv_database* db = nullptr;
  char* err = nullptr;
  if (int rc = qv_open(a.dir.c_str(), o, &db, &err); rc != 0) {
    std::fprintf(stderr, "restart_bench: read-only open failed: %s\n", err ? err : qv_status_name(rc));
    std::exit(3);
  }
  qv_options_destroy(o);
  Stats s;
  qv_collection* col = nullptr;
  if (qv_db_collection(db, "c", &col) == 0) {
    char* info = nullptr;
    Check(qv_collection_info_json(col, &info), "info", db);
    s.points = Field(info, "points_count");
    s.segments = Field(info, "segments_count");
    qv_free(info);
    char* stats = nullptr;
    Check(qv_collection_stats_json(col, &stats), "stats", db);
    s.indexed = Field(stats, "indexed_vectors");
    s.unindexed = Field(stats, "unindexed_vectors");
    qv_free(stats);
    qv_collection_destroy(col);
  }
  qv_db_destroy(db);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  const bool own_dir = a.dir.empty();
  if (own_dir) a.dir = (std::filesystem::temp_directory_path() / ("quiver-restart-" + std::to_string(getpid()))).string();
  std::filesystem::remove_all(a.dir);
  std::printf("short-lived writers: %d rounds, threads %s, segment_points %s, durability %s, %d-d, batches of %d, "
              "rate %d points/s (0: unlimited)\n",
              a.rounds, a.threads.c_str(), a.segment_points.c_str(), a.durability.c_str(), a.dim, a.batch, a.rate);
  std::printf("%6s %10s %9s %11s\n", "round", "points", "segments", "unindexed");
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> life_ms(500, 1500);
  Stats last;
  double open_ms_total = 0, open_ms_max = 0;
  uint64_t max_segments = 0;
  double max_unindexed = 0;
  for (int round = 1; round <= a.rounds; ++round) {
    int ready[2];
    if (pipe(ready) != 0) return 3;
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid < 0) return 3;
    if (pid == 0) {
      close(ready[0]);
      Writer(a, round, ready[1]);
    }
    close(ready[1]);
    char opened = 0;
    if (read(ready[0], &opened, 1) != 1) {
      std::fprintf(stderr, "restart_bench: the writer failed before it opened the database\n");
      return 3;
    }
    close(ready[0]);
    const double open_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    open_ms_total += open_ms;
    open_ms_max = std::max(open_ms_max, open_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(life_ms(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      std::fprintf(stderr, "restart_bench: writer ended on its own (status %d)\n", status);
      return 3;
    }
    last = Read(a);
    const double share = last.indexed + last.unindexed ? double(last.unindexed) / double(last.indexed + last.unindexed) : 0;
    if (round > a.rounds / 2) {  // the bound that matters is the one once the collection is large
      max_segments = std::max(max_segments, last.segments);
      max_unindexed = std::max(max_unindexed, share);
    }
    if (round % 10 == 0 || round == 1 || round == a.rounds)
      std::printf("%6d %10llu %9llu %10.1f%%\n", round, (unsigned long long)last.points,
                  (unsigned long long)last.segments, 100 * share);
    std::fflush(stdout);
  }
  std::printf("second half of the run: at most %llu segments, at most %.1f%% of vectors unindexed\n",
              (unsigned long long)max_segments, 100 * max_unindexed);
  std::printf("open: %.0f ms on average, %.0f ms at most\n", open_ms_total / a.rounds, open_ms_max);
  if (own_dir) std::filesystem::remove_all(a.dir);
  return 0;
}

// Soak: millions of upserts, deletes and payload updates on a bounded set of ids, with background merges, through
// the public C API. The live data stays about the same size the whole run, so memory and disk must too: this
// program measures both as it goes and fails (exit 1) when they keep growing or when compaction does not give
// space back. docs/reliability.md ("A soak") records a run.
//
//   build/native-release/bench/soak --ops 3000000 [--keys 50000] [--dim 64] [--threads 2]
//                                   [--segment-points 5000] [--durability batched] [--dir D] [--reports 12]
//                                   [--trim 0]
//
// An operation is one point written, deleted or given a payload; they come in batches of 100 (upserts 60%,
// payload updates 25%: set, overwrite or key deletes, deletes 15%) on ids drawn from 0..keys-1, so about
// three quarters of the ids are live at any time. A model of which ids are live is kept and checked against the
// database at every report and after a reopen at the end. A report shows where the memory is: RSS split into
// anonymous memory (and how much of it is in huge pages) and mapped files, glibc's view of its heap (mallinfo2:
// obtained from the system, in use, free in its arenas; large arrays the engine maps itself are outside it), the
// engine's own estimate, and with --trim 1 the RSS after malloc_trim(0) (which changes the rest of the run).
// Bounds checked (the run fails on any):
// - memory: peak RSS over the second half of the run at most 1.25x the peak of the first half (no growth);
// - disk: the folder's size over the second half at most 1.5x the largest size of the first half;
// - compaction: after the final optimize the folder is at most 3x the live data's raw size (vectors + payload
//   text) plus 16 MB, and smaller than the largest size seen during the run.
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "quiver.h"

namespace {

namespace fs = std::filesystem;

struct Args {
  uint64_t ops = 3'000'000;
  uint64_t keys = 50'000;
  size_t dim = 64;
  std::string threads = "2";
  std::string segment_points = "5000";
  std::string durability = "batched";
  std::string dir;
  int reports = 12;
  bool trim = false;  // malloc_trim(0) at each report, RSS measured before and after (glibc)
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "soak: %s\nusage: soak [--ops N] [--keys N] [--dim N] [--threads T] [--segment-points N] "
               "[--durability sync|batched|none] [--dir D] [--reports N] [--trim 0|1]\n",
               why);
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) Usage(("missing the value of " + k).c_str());
    const char* v = argv[++i];
    if (k == "--ops") a.ops = std::strtoull(v, nullptr, 10);
    else if (k == "--keys") a.keys = std::strtoull(v, nullptr, 10);
    else if (k == "--dim") a.dim = std::strtoull(v, nullptr, 10);
    else if (k == "--threads") a.threads = v;
    else if (k == "--segment-points") a.segment_points = v;
    else if (k == "--durability") a.durability = v;
    else if (k == "--dir") a.dir = v;
    else if (k == "--reports") a.reports = std::atoi(v);
    else if (k == "--trim") a.trim = std::atoi(v) != 0;
    else Usage(("unknown option " + k).c_str());
  }
  if (a.ops == 0 || a.keys < 1000 || a.dim == 0 || a.reports < 2) Usage("bad sizes");
  return a;
}

void Check(int rc, const char* what, qv_database* db) {
  if (rc == 0) return;
  std::fprintf(stderr, "soak: %s failed: %s (%s)\n", what, qv_status_name(rc), db ? qv_db_errmsg(db) : "");
  std::exit(1);
}

// kB of a line of /proc/self/status ("VmRSS:", "VmHWM:") or of another file of that form.
uint64_t StatusKb(const char* key, const char* file = "/proc/self/status") {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10);
  }
  return 0;
}

// The allocator's view of the heap, in bytes (glibc's mallinfo2; zeros elsewhere): obtained from the system
// (arenas plus mmapped blocks), handed out to the program, and free inside the arenas; and the number of arenas.
struct Heap {
  uint64_t obtained = 0, in_use = 0, free = 0, arenas = 0;
};

Heap HeapNow() {
  Heap h;
#if defined(__GLIBC__)
  const struct mallinfo2 m = ::mallinfo2();
  h.obtained = m.arena + m.hblkhd;
  h.in_use = m.uordblks + m.hblkhd;
  h.free = m.fordblks;
  char* text = nullptr;
  size_t size = 0;
  if (FILE* f = ::open_memstream(&text, &size)) {
    ::malloc_info(0, f);
    std::fclose(f);
    for (const char* at = text; (at = std::strstr(at, "<heap nr=")) != nullptr; ++at) ++h.arenas;
    std::free(text);
  }
#endif
  return h;
}

// Returns the free memory of the allocator's arenas to the system; false where the allocator is not glibc's.
bool TrimHeap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
  return true;
#else
  return false;
#endif
}

uint64_t FolderBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) total += it->file_size(size_ec);
  }
  return total;
}

// A number field of the stats JSON ({"points": 1, "segments": 2, ...}).
uint64_t StatsField(const std::string& json, const char* name) {
  const std::string key = std::string("\"") + name + "\":";
  const size_t at = json.find(key);
  return at == std::string::npos ? 0 : std::strtoull(json.c_str() + at + key.size(), nullptr, 10);
}

std::string Stats(qv_collection* col, qv_database* db) {
  char* out = nullptr;
  Check(qv_collection_stats_json(col, &out), "stats", db);
  std::string s(out);
  qv_free(out);
  return s;
}

qv_database* Open(const Args& a) {
  qv_options* o = nullptr;
  qv_options_create(&o);
  qv_options_set(o, "threads", a.threads.c_str());
  qv_options_set(o, "segment_points", a.segment_points.c_str());
  qv_options_set(o, "durability", a.durability.c_str());
  qv_database* db = nullptr;
  char* err = nullptr;
  const int rc = qv_open(a.dir.c_str(), o, &db, &err);
  qv_options_destroy(o);
  if (rc != 0) {
    std::fprintf(stderr, "soak: open failed: %s\n", err ? err : qv_status_name(rc));
    std::exit(1);
  }
  return db;
}

struct Sample {
  uint64_t ops, live, rss_kb, hwm_kb, disk, segments, unindexed;
  uint64_t anon_kb, file_kb, huge_kb, engine_bytes;
  Heap heap;
  uint64_t trimmed_rss_kb;  // RSS after malloc_trim(0), with --trim
};

// The database's live ids equal the model's: the count, and every id of a sample present or absent as modelled.
void CheckModel(qv_collection* col, qv_database* db, const std::vector<uint8_t>& live, uint64_t live_count,
                std::mt19937_64& rng) {
  uint64_t count = 0;
  Check(qv_collection_count(col, nullptr, &count), "count", db);
  if (count != live_count) {
    std::fprintf(stderr, "soak: the database holds %llu points, the model %llu\n",
                 static_cast<unsigned long long>(count), static_cast<unsigned long long>(live_count));
    std::exit(1);
  }
  std::vector<uint64_t> ids(500);
  for (auto& id : ids) id = rng() % live.size();
  qv_result* r = nullptr;
  Check(qv_collection_get(col, ids.data(), ids.size(), QV_WITH_PAYLOAD, &r), "get", db);
  std::vector<uint8_t> found(live.size(), 0);
  for (size_t i = 0; i < qv_result_count(r); ++i) found[qv_result_id(r, i)] = 1;
  qv_result_free(r);
  for (uint64_t id : ids) {
    if (found[id] != live[id]) {
      std::fprintf(stderr, "soak: id %llu is %s in the database and %s in the model\n",
                   static_cast<unsigned long long>(id), found[id] ? "present" : "absent",
                   live[id] ? "present" : "absent");
      std::exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  const bool temp = a.dir.empty();
  if (temp) a.dir = (fs::temp_directory_path() / ("quiver-soak-" + std::to_string(::getpid()))).string();
  fs::remove_all(a.dir);

  qv_database* db = Open(a);
  Check(qv_db_create_collection(db, "soak", static_cast<uint32_t>(a.dim), QV_DISTANCE_COSINE), "create", db);
  qv_collection* col = nullptr;
  Check(qv_db_collection(db, "soak", &col), "collection", db);
  Check(qv_collection_create_payload_index(col, "group", "keyword"), "payload index", db);

  std::mt19937_64 rng(20261206);
  std::normal_distribution<float> normal;
  std::vector<uint8_t> live(a.keys, 0);
  uint64_t live_count = 0;
  constexpr size_t kBatch = 100;
  std::vector<uint64_t> ids(kBatch);
  std::vector<float> vectors(kBatch * a.dim);
  std::vector<std::string> payload_text(kBatch);
  std::vector<const char*> payloads(kBatch);

  std::printf("soak: %llu operations on %llu ids, %zu-d, threads %s, segment_points %s, durability %s\n",
              static_cast<unsigned long long>(a.ops), static_cast<unsigned long long>(a.keys), a.dim,
              a.threads.c_str(), a.segment_points.c_str(), a.durability.c_str());
  // MiB. RSS = anon (the heap, mostly; "huge" of it in transparent huge pages) + file (pages of mapped files);
  // heap: glibc's obtained / in use / free in its arenas; engine: the collection's own estimate (stats
  // memory_bytes); trim: RSS after malloc_trim(0), with --trim 1.
  std::printf("%10s %6s %7s %7s %6s %6s %6s %8s %7s %7s %6s %7s %7s %4s %6s %6s %6s\n", "operations", "live", "RSS",
              "peak", "anon", "huge", "file", "obtained", "in use", "free", "arenas", "engine", "disk", "segs",
              "flat", "ops/s", "trim");
  std::vector<Sample> samples;
  const uint64_t every = a.ops / a.reports;
  uint64_t done = 0, next_report = every;
  auto last = std::chrono::steady_clock::now();
  uint64_t last_ops = 0;
  while (done < a.ops) {
    const uint64_t pick = rng() % 100;
    for (auto& id : ids) id = rng() % a.keys;
    if (pick < 60) {
      for (size_t i = 0; i < kBatch; ++i) {
        for (size_t d = 0; d < a.dim; ++d) vectors[i * a.dim + d] = normal(rng);
        payload_text[i] = "{\"group\": \"g" + std::to_string(ids[i] % 97) + "\", \"n\": " + std::to_string(done + i) +
                          ", \"tags\": [\"a\", \"b\"]}";
        payloads[i] = payload_text[i].c_str();
      }
      Check(qv_collection_upsert(col, nullptr, ids.data(), vectors.data(), kBatch, a.dim, payloads.data()), "upsert",
            db);
      for (uint64_t id : ids) {
        if (!live[id]) ++live_count;
        live[id] = 1;
      }
    } else if (pick < 85) {
      // Payload updates need existing ids (with ids given, a missing one fails the whole call).
      std::vector<uint64_t> present;
      for (uint64_t id : ids) {
        if (live[id]) present.push_back(id);
      }
      std::sort(present.begin(), present.end());
      present.erase(std::unique(present.begin(), present.end()), present.end());
      if (!present.empty()) {
        const std::string body = "{\"n\": " + std::to_string(done) + ", \"seen\": true}";
        if (pick < 70) {
          Check(qv_collection_set_payload(col, present.data(), present.size(), nullptr, body.c_str(), nullptr),
                "set payload", db);
        } else if (pick < 80) {
          const std::string whole = "{\"group\": \"g" + std::to_string(done % 97) + "\", \"n\": 0}";
          Check(qv_collection_overwrite_payload(col, present.data(), present.size(), nullptr, whole.c_str(), nullptr),
                "overwrite payload", db);
        } else {
          const char* keys[] = {"seen", "tags"};
          Check(qv_collection_delete_payload_keys(col, present.data(), present.size(), nullptr, keys, 2, nullptr),
                "delete payload keys", db);
        }
      }
    } else {
      Check(qv_collection_delete(col, ids.data(), kBatch, nullptr), "delete", db);
      for (uint64_t id : ids) {
        if (live[id]) --live_count;
        live[id] = 0;
      }
    }
    done += kBatch;
    if (done >= next_report || done >= a.ops) {
      next_report += every;
      CheckModel(col, db, live, live_count, rng);
      const std::string stats = Stats(col, db);
      Sample s{done,
               live_count,
               StatusKb("VmRSS:"),
               StatusKb("VmHWM:"),
               FolderBytes(a.dir),
               StatsField(stats, "segments"),
               StatsField(stats, "unindexed_vectors"),
               StatusKb("RssAnon:"),
               StatusKb("RssFile:"),
               StatusKb("AnonHugePages:", "/proc/self/smaps_rollup"),
               StatsField(stats, "memory_bytes"),
               HeapNow(),
               0};
      if (a.trim && TrimHeap()) s.trimmed_rss_kb = StatusKb("VmRSS:");
      samples.push_back(s);
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - last).count();
      constexpr double kMiB = 1048576.0;
      std::printf("%10llu %6llu %7.1f %7.1f %6.1f %6.1f %6.1f %8.1f %7.1f %7.1f %6llu %7.1f %7.1f %4llu %6llu %6.0f "
                  "%6.1f\n",
                  static_cast<unsigned long long>(s.ops), static_cast<unsigned long long>(s.live), s.rss_kb / 1024.0,
                  s.hwm_kb / 1024.0, s.anon_kb / 1024.0, s.huge_kb / 1024.0, s.file_kb / 1024.0, s.heap.obtained / kMiB,
                  s.heap.in_use / kMiB, s.heap.free / kMiB, static_cast<unsigned long long>(s.heap.arenas),
                  s.engine_bytes / kMiB, s.disk / kMiB, static_cast<unsigned long long>(s.segments),
                  static_cast<unsigned long long>(s.unindexed), (done - last_ops) / secs, s.trimmed_rss_kb / 1024.0);
      std::fflush(stdout);
      last = now;
      last_ops = done;
    }
  }

  // Compaction gives the space of deleted and replaced points back.
  Check(qv_collection_optimize(col), "optimize", db);
  Check(qv_db_flush(db), "flush", db);
  const uint64_t compacted = FolderBytes(a.dir);
  qv_collection_destroy(col);
  Check(qv_db_close(db), "close", nullptr);
  qv_db_destroy(db);

  // Reopened, the database holds what the model says.
  db = Open(a);
  Check(qv_db_collection(db, "soak", &col), "collection after reopen", db);
  CheckModel(col, db, live, live_count, rng);
  const std::string stats = Stats(col, db);
  qv_collection_destroy(col);
  qv_db_destroy(db);

  const size_t half = samples.size() / 2;
  uint64_t hwm_first = 0, rss_second = 0, disk_first = 0, disk_second = 0, disk_max = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    disk_max = std::max(disk_max, s.disk);
    if (i < half) {
      hwm_first = std::max(hwm_first, s.hwm_kb);
      disk_first = std::max(disk_first, s.disk);
    } else {
      rss_second = std::max(rss_second, s.rss_kb);
      disk_second = std::max(disk_second, s.disk);
    }
  }
  const uint64_t hwm_end = samples.back().hwm_kb;
  const double raw = static_cast<double>(live_count) * (a.dim * sizeof(float) + 48);
  std::printf("after optimize: %.1f MiB on disk for %llu live points (raw vectors + payloads %.1f MiB); "
              "%llu segments, %llu unindexed after reopening\n",
              compacted / 1048576.0, static_cast<unsigned long long>(live_count), raw / 1048576.0,
              static_cast<unsigned long long>(StatsField(stats, "segments")),
              static_cast<unsigned long long>(StatsField(stats, "unindexed_vectors")));
  std::printf("memory: peak RSS %.1f MiB in the first half, %.1f MiB at the end (RSS in the second half at most "
              "%.1f MiB)\n",
              hwm_first / 1024.0, hwm_end / 1024.0, rss_second / 1024.0);
  std::printf("disk: at most %.1f MiB in the first half, %.1f MiB in the second\n", disk_first / 1048576.0,
              disk_second / 1048576.0);

  bool ok = true;
  if (hwm_end > hwm_first * 1.25) {
    std::printf("FAILED: peak memory grew in the second half (%.1f > 1.25 x %.1f MiB)\n", hwm_end / 1024.0,
                hwm_first / 1024.0);
    ok = false;
  }
  if (disk_second > disk_first * 1.5) {
    std::printf("FAILED: disk grew in the second half (%.1f > 1.5 x %.1f MiB)\n", disk_second / 1048576.0,
                disk_first / 1048576.0);
    ok = false;
  }
  if (compacted > raw * 3 + 16 * 1048576.0 || compacted >= disk_max) {
    std::printf("FAILED: compaction left %.1f MiB (bound %.1f MiB, largest during the run %.1f MiB)\n",
                compacted / 1048576.0, (raw * 3 + 16 * 1048576.0) / 1048576.0, disk_max / 1048576.0);
    ok = false;
  }
  if (temp) fs::remove_all(a.dir);
  std::printf("soak: %s\n", ok ? "within bounds" : "out of bounds");
  return ok ? 0 : 1;
}

// Threads at once on one stored collection, checked against a model: writers upsert, delete, merge and overwrite
// payloads on id ranges of their own, readers get, search, count and scroll, and another thread optimizes and
// flushes, all for a fixed wall time (QUIVER_STRESS_SECONDS, default 2 s per setting), with the database's
// background executor absent, of one thread and of two. Small segments keep seals and merges happening all the
// time. Run under ThreadSanitizer by the `tsan` preset (docs/reliability.md, "Threads under ThreadSanitizer").
//
// The model: each writer owns its ids, so it knows every state each of them has had, in order. Before an
// operation it appends the new states to the ids' histories, after it returns it marks them done. A read that
// started when an id's history was done up to state `lo` and ended when it held `hi` states may see any state
// lo..hi of that id, and no other; once the writers stop, everything must equal the last states exactly.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "db/database_core.h"
#include "quiver/thread_pool.h"
#include "storage/storage_memory.h"

namespace quiver {
namespace {

using db::DatabaseCore;

constexpr size_t kDim = 4;
constexpr size_t kWriters = 2;
constexpr size_t kReaders = 2;
constexpr uint64_t kIdsPerWriter = 150;
constexpr size_t kSegmentPoints = 48;

// One state of one point. `vg` is the generation of the write that set its vector (the vector is a function of
// id and vg); `g` of the last write to its payload; `s` and `o` say a payload merge or overwrite made it.
struct State {
  bool live = false;
  uint32_t vg = 0;
  uint32_t g = 0;
  bool s = false;
  bool o = false;
  bool operator==(const State&) const = default;
};

std::vector<float> VectorOf(uint64_t id, uint32_t vg) {
  std::vector<float> v(kDim);
  for (size_t j = 0; j < kDim; ++j) v[j] = float((id * 31 + vg * 17 + j * 7) % 101) / 10.0f;
  v[0] += float(id) / 1000.0f;
  return v;
}

std::string WriterName(size_t w) { return "w" + std::to_string(w); }

// The payload a state stands for: {"w":..., "id":..., "vg":..., "g":..., "s":..., "o":...}.
boost::json::object PayloadOf(size_t writer, uint64_t id, const State& st) {
  boost::json::object o;
  o["w"] = WriterName(writer);
  o["id"] = int64_t(id);
  o["vg"] = int64_t(st.vg);
  o["g"] = int64_t(st.g);
  if (st.s) o["s"] = int64_t(st.g);
  if (st.o) o["o"] = 1;
  return o;
}

// What a returned record shows, as a State; live=false when the payload is not what any state would give.
State StateOf(size_t writer, uint64_t id, const std::string& payload_text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(payload_text, ec);
  if (ec || !v.is_object()) return {};
  const boost::json::object& o = v.get_object();
  State st;
  const auto* vg = o.if_contains("vg");
  const auto* g = o.if_contains("g");
  if (!vg || !g || !vg->is_int64() || !g->is_int64()) return {};
  st.live = true;
  st.vg = uint32_t(vg->as_int64());
  st.g = uint32_t(g->as_int64());
  st.s = o.contains("s");
  st.o = o.contains("o");
  if (PayloadOf(writer, id, st) != o) return {};
  return st;
}

// The errors found by the threads (Catch2's assertions are not thread-safe); checked on the main thread.
class Errors {
 public:
  void Add(std::string e) {
    std::lock_guard lock(mu_);
    if (errors_.size() < 20) errors_.push_back(std::move(e));
    ++count_;
  }
  std::vector<std::string> Take() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
  size_t count_ = 0;
};

// One writer's ids [first, first + kIdsPerWriter) and every state each has had.
class WriterModel {
 public:
  explicit WriterModel(uint64_t first) : first_(first), history_(kIdsPerWriter, std::vector<State>(1)),
                                         done_(kIdsPerWriter, 0) {}

  uint64_t first() const { return first_; }
  bool Owns(uint64_t id) const { return id >= first_ && id < first_ + kIdsPerWriter; }

  // Writer side.
  State Last(uint64_t id) {
    std::lock_guard lock(mu_);
    return history_[id - first_].back();
  }
  void Begin(uint64_t id, const State& st) {
    std::lock_guard lock(mu_);
    history_[id - first_].push_back(st);
  }
  void Done(uint64_t id) {
    std::lock_guard lock(mu_);
    done_[id - first_] = history_[id - first_].size() - 1;
  }

  // Reader side: the states done when a read starts, then the window lo..hi each id's result must fall into.
  std::vector<size_t> DoneNow() {
    std::lock_guard lock(mu_);
    return done_;
  }
  // Calls fn(window) with the states id may show to a read that began with `lo` (from DoneNow) and ends now.
  template <typename Fn>
  auto WithWindow(uint64_t id, const std::vector<size_t>& lo, Fn fn) {
    std::lock_guard lock(mu_);
    const std::vector<State>& h = history_[id - first_];
    return fn(std::span<const State>(h.data() + lo[id - first_], h.size() - lo[id - first_]));
  }
  bool Allows(uint64_t id, const std::vector<size_t>& lo, const State& seen) {
    return WithWindow(id, lo, [&](std::span<const State> w) {
      return std::any_of(w.begin(), w.end(), [&](const State& s) { return s.live ? s == seen : !seen.live; });
    });
  }

 private:
  const uint64_t first_;
  std::mutex mu_;
  std::vector<std::vector<State>> history_;  // index 0: absent, before the first write
  std::vector<size_t> done_;
};

PointId Id(uint64_t id) { return PointId::Number(id); }

struct Shared {
  Collection* c = nullptr;
  DatabaseCore* db = nullptr;
  std::vector<std::unique_ptr<WriterModel>> models;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> optimizes{0};
  Errors errors;

  size_t WriterOf(uint64_t id) const { return size_t(id / kIdsPerWriter); }
};

void Writer(Shared& sh, size_t w, uint32_t seed) {
  WriterModel& m = *sh.models[w];
  std::mt19937 rng(seed);
  uint32_t gen = 0;
  auto pick = [&](size_t n, bool live_only) {
    std::vector<uint64_t> ids;
    for (size_t tries = 0; ids.size() < n && tries < 4 * n; ++tries) {
      uint64_t id = m.first() + rng() % kIdsPerWriter;
      if (live_only && !m.Last(id).live) continue;
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    return ids;
  };
  auto check = [&](const Status& s, const char* what) {
    if (!s.ok()) sh.errors.Add(std::string(what) + ": " + s.ToString());
  };
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const uint32_t op = rng() % 10;
    ++gen;
    if (op < 5) {  // upsert a batch
      std::vector<uint64_t> ids = pick(1 + rng() % 8, false);
      std::vector<PointInput> batch;
      for (uint64_t id : ids) {
        State st{true, gen, gen, false, false};
        m.Begin(id, st);
        PointInput p;
        p.id = Id(id);
        p.vectors[""] = VectorOf(id, gen);
        p.payload = boost::json::serialize(PayloadOf(w, id, st));
        batch.push_back(std::move(p));
      }
      check(sh.c->Upsert(batch), "upsert");
      for (uint64_t id : ids) m.Done(id);
    } else if (op < 7) {  // delete a few, some of them absent
      std::vector<uint64_t> ids = pick(1 + rng() % 4, false);
      std::vector<PointId> pids;
      size_t existed = 0;
      for (uint64_t id : ids) {
        existed += m.Last(id).live;
        m.Begin(id, State{});
        pids.push_back(Id(id));
      }
      auto n = sh.c->Delete(PointsSelector::Ids(pids));
      if (!n.ok()) {
        check(n.status(), "delete");
      } else if (*n != existed) {
        sh.errors.Add("delete returned " + std::to_string(*n) + ", the model says " + std::to_string(existed));
      }
      for (uint64_t id : ids) m.Done(id);
    } else if (op < 9) {  // merge payload keys into live points
      std::vector<uint64_t> ids = pick(1 + rng() % 4, true);
      if (ids.empty()) continue;
      std::vector<PointId> pids;
      for (uint64_t id : ids) {
        State st = m.Last(id);
        st.g = gen;
        st.s = true;
        m.Begin(id, st);
        pids.push_back(Id(id));
      }
      boost::json::object merge{{"g", int64_t(gen)}, {"s", int64_t(gen)}};
      auto n = sh.c->SetPayload(PointsSelector::Ids(pids), boost::json::serialize(merge));
      if (!n.ok()) {
        check(n.status(), "set_payload");
      } else if (*n != ids.size()) {
        sh.errors.Add("set_payload changed " + std::to_string(*n) + " of " + std::to_string(ids.size()));
      }
      for (uint64_t id : ids) m.Done(id);
    } else {  // overwrite one live point's payload
      std::vector<uint64_t> ids = pick(1, true);
      if (ids.empty()) continue;
      State st = m.Last(ids[0]);
      st.g = gen;
      st.s = false;
      st.o = true;
      m.Begin(ids[0], st);
      auto n = sh.c->OverwritePayload(PointsSelector::Ids({Id(ids[0])}),
                                      boost::json::serialize(PayloadOf(w, ids[0], st)));
      if (!n.ok()) check(n.status(), "overwrite_payload");
      m.Done(ids[0]);
    }
    sh.writes.fetch_add(1, std::memory_order_relaxed);
  }
}

// Checks one returned point (payload and, when given, vector) against its writer's window.
void CheckSeen(Shared& sh, const char* what, const PointId& pid, const std::optional<std::string>& payload,
               const std::map<std::string, std::vector<float>>* vectors,
               const std::vector<std::vector<size_t>>& lo) {
  const uint64_t id = pid.number();
  const size_t w = sh.WriterOf(id);
  if (w >= kWriters) {
    sh.errors.Add(std::string(what) + " returned unknown id " + std::to_string(id));
    return;
  }
  const State seen = payload ? StateOf(w, id, *payload) : State{};
  if (!seen.live) {
    sh.errors.Add(std::string(what) + " returned id " + std::to_string(id) + " with payload " +
                  payload.value_or("(none)") + ", which no write made");
    return;
  }
  if (!sh.models[w]->Allows(id, lo[w], seen)) {
    sh.errors.Add(std::string(what) + " returned id " + std::to_string(id) + " with payload " + *payload +
                  ", a state it did not have during the read");
  }
  if (vectors) {
    auto it = vectors->find("");
    if (it == vectors->end() || it->second != VectorOf(id, seen.vg))
      sh.errors.Add(std::string(what) + " returned id " + std::to_string(id) + " with a vector not its own");
  }
}

std::vector<std::vector<size_t>> DoneNow(Shared& sh) {
  std::vector<std::vector<size_t>> lo;
  for (auto& m : sh.models) lo.push_back(m->DoneNow());
  return lo;
}

// Counts within the bounds the windows allow: an id counts as 1 at least when all states of its window match,
// at most when any does.
void CheckCount(Shared& sh, const char* what, size_t count, const std::vector<std::vector<size_t>>& lo,
                size_t writer, const std::function<bool(const State&)>& match) {
  size_t least = 0, most = 0;
  for (size_t w = 0; w < kWriters; ++w) {
    if (writer != kWriters && w != writer) continue;
    WriterModel& m = *sh.models[w];
    for (uint64_t id = m.first(); id < m.first() + kIdsPerWriter; ++id) {
      m.WithWindow(id, lo[w], [&](std::span<const State> win) {
        least += std::all_of(win.begin(), win.end(), match);
        most += std::any_of(win.begin(), win.end(), match);
        return 0;
      });
    }
  }
  if (count < least || count > most) {
    sh.errors.Add(std::string(what) + " counted " + std::to_string(count) + ", the model allows " +
                  std::to_string(least) + ".." + std::to_string(most));
  }
}

std::string KeywordFilter(size_t w) {
  return R"({"must":[{"key":"w","match":{"value":")" + WriterName(w) + R"("}}]})";
}

void Reader(Shared& sh, uint32_t seed) {
  std::mt19937 rng(seed);
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const uint32_t op = rng() % 10;
    const size_t w = rng() % kWriters;
    const uint64_t first = sh.models[w]->first();
    if (op < 3) {  // get: every id returned or not as a state of its window allows
      std::vector<PointId> ids;
      for (int i = 0; i < 8; ++i) ids.push_back(Id(first + rng() % kIdsPerWriter));
      auto lo = DoneNow(sh);
      auto got = sh.c->Get(ids, PayloadSelector::All(), VectorSelector::All());
      if (!got.ok()) {
        sh.errors.Add("get: " + got.status().ToString());
        continue;
      }
      for (const Record& r : *got) CheckSeen(sh, "get", r.id, r.payload, &r.vectors, lo);
      for (const PointId& pid : ids) {
        bool returned = std::any_of(got->begin(), got->end(), [&](const Record& r) { return r.id == pid; });
        if (!returned && !sh.models[w]->Allows(pid.number(), lo[w], State{}))
          sh.errors.Add("get skipped id " + std::to_string(pid.number()) + ", live throughout the read");
      }
    } else if (op < 6) {  // search, half of them filtered by writer
      SearchRequest r;
      r.vector = VectorOf(first + rng() % kIdsPerWriter, rng() % 1000);
      r.limit = 10;
      r.with_payload = PayloadSelector::All();
      r.with_vector = VectorSelector::All();
      const bool filtered = op % 2;
      if (filtered) r.filter = KeywordFilter(w);
      if (rng() % 4 == 0) r.exact = true;
      auto lo = DoneNow(sh);
      auto hits = sh.c->Search(r);
      if (!hits.ok()) {
        sh.errors.Add("search: " + hits.status().ToString());
        continue;
      }
      for (size_t i = 0; i < hits->size(); ++i) {
        const ScoredPoint& p = (*hits)[i];
        CheckSeen(sh, "search", p.id, p.payload, &p.vectors, lo);
        if (filtered && sh.WriterOf(p.id.number()) != w)
          sh.errors.Add("a search filtered to " + WriterName(w) + " returned id " + std::to_string(p.id.number()));
        if (i > 0 && p.score < (*hits)[i - 1].score) sh.errors.Add("search results out of order");
      }
    } else if (op < 8) {  // filtered counts: by writer (keyword index), by generation (integer index)
      auto lo = DoneNow(sh);
      if (op == 6) {
        auto n = sh.c->Count(KeywordFilter(w));
        if (!n.ok()) {
          sh.errors.Add("count: " + n.status().ToString());
          continue;
        }
        CheckCount(sh, "a count by writer", *n, lo, w, [](const State& s) { return s.live; });
      } else {
        const uint32_t at_least = uint32_t(rng() % (1 + sh.writes.load() / kWriters));
        auto n = sh.c->Count(R"({"must":[{"key":"g","range":{"gte":)" + std::to_string(at_least) + "}}]}");
        if (!n.ok()) {
          sh.errors.Add("count: " + n.status().ToString());
          continue;
        }
        CheckCount(sh, "a count by generation", *n, lo, kWriters,
                   [&](const State& s) { return s.live && s.g >= at_least; });
      }
    } else {  // scroll one writer's points page by page: ascending, no repeats, every point consistent
      ScrollRequest r;
      r.filter = KeywordFilter(w);
      r.limit = 1 + rng() % 40;
      auto lo = DoneNow(sh);
      std::optional<uint64_t> last;
      for (;;) {
        auto page = sh.c->Scroll(r);
        if (!page.ok()) {
          sh.errors.Add("scroll: " + page.status().ToString());
          break;
        }
        for (const Record& rec : page->points) {
          if (last && rec.id.number() <= *last) sh.errors.Add("scroll pages out of order or repeated");
          last = rec.id.number();
          if (sh.WriterOf(rec.id.number()) != w) sh.errors.Add("a scroll filtered by writer returned another's id");
          CheckSeen(sh, "scroll", rec.id, rec.payload, nullptr, lo);
        }
        if (!page->next_page_offset) break;
        r.offset = page->next_page_offset;
      }
    }
    sh.reads.fetch_add(1, std::memory_order_relaxed);
  }
}

void Optimizer(Shared& sh) {
  while (!sh.stop.load(std::memory_order_relaxed)) {
    Status s = sh.c->Optimize();
    if (!s.ok()) sh.errors.Add("optimize: " + s.ToString());
    s = sh.db->Flush();
    if (!s.ok()) sh.errors.Add("flush: " + s.ToString());
    sh.optimizes.fetch_add(1, std::memory_order_relaxed);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
}

// Once the writers have stopped: every id exactly as the model's last state, by get, count and scroll.
void CheckFinal(Shared& sh) {
  size_t live = 0;
  for (size_t w = 0; w < kWriters; ++w) {
    WriterModel& m = *sh.models[w];
    std::vector<PointId> ids;
    for (uint64_t id = m.first(); id < m.first() + kIdsPerWriter; ++id) ids.push_back(Id(id));
    auto got = sh.c->Get(ids, PayloadSelector::All(), VectorSelector::All());
    REQUIRE(got.ok());
    size_t at = 0;
    for (uint64_t id = m.first(); id < m.first() + kIdsPerWriter; ++id) {
      INFO("id " << id);
      const State want = m.Last(id);
      if (!want.live) continue;
      ++live;
      REQUIRE(at < got->size());
      const Record& r = (*got)[at++];
      REQUIRE(r.id == Id(id));
      REQUIRE(r.payload.has_value());
      CHECK(boost::json::parse(*r.payload) == boost::json::value(PayloadOf(w, id, want)));
      CHECK(r.vectors.at("") == VectorOf(id, want.vg));
    }
    CHECK(at == got->size());
    CHECK(*sh.c->Count(KeywordFilter(w)) == at);
  }
  CHECK(*sh.c->Count("") == live);
  ScrollRequest all;
  all.limit = 2 * kWriters * kIdsPerWriter;
  CHECK(sh.c->Scroll(all)->points.size() == live);
  auto problems = sh.c->Verify();
  REQUIRE(problems.ok());
  CHECK(*problems == std::vector<std::string>{});
}

double StressSeconds() {
  const char* s = std::getenv("QUIVER_STRESS_SECONDS");
  return s && std::atof(s) > 0 ? std::atof(s) : 2.0;
}

DatabaseOptions Options(Executor* executor) {
  DatabaseOptions o;
  o.replica_id = 7;
  o.path = "mem";
  o.segment_points = kSegmentPoints;
  o.executor = executor;
  o.durability = Durability::kBatched;
  return o;
}

TEST_CASE("stress: concurrent writes, reads and optimize agree with a model", "[db][stress]") {
  const double seconds = StressSeconds();
  for (size_t threads : {0, 1, 2}) {
    INFO("threads " << threads);
    std::unique_ptr<ThreadPool> pool = threads ? std::make_unique<ThreadPool>(threads) : nullptr;
    storage::MemoryStorage st;
    Shared sh;
    for (size_t w = 0; w < kWriters; ++w) sh.models.push_back(std::make_unique<WriterModel>(w * kIdsPerWriter));
    {
      auto db = DatabaseCore::OpenStorage(Options(pool.get()), &st);
      REQUIRE(db.ok());
      CollectionConfig config;
      config.vectors[""] = VectorParams{kDim, Distance::kEuclid};
      config.hnsw.m = 8;
      config.hnsw.ef_construct = 32;
      REQUIRE((*db)->CreateCollection("c", config).ok());
      auto c = *(*db)->GetCollection("c");
      REQUIRE(c->CreatePayloadIndex("w", "keyword").ok());
      REQUIRE(c->CreatePayloadIndex("g", "integer").ok());
      sh.c = c.get();
      sh.db = db->get();

      std::vector<std::thread> workers;
      const auto start = std::chrono::steady_clock::now();
      for (size_t w = 0; w < kWriters; ++w) workers.emplace_back(Writer, std::ref(sh), w, uint32_t(100 + w));
      for (size_t r = 0; r < kReaders; ++r) workers.emplace_back(Reader, std::ref(sh), uint32_t(200 + r));
      workers.emplace_back(Optimizer, std::ref(sh));
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      sh.stop = true;
      for (std::thread& t : workers) t.join();
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (std::getenv("QUIVER_STRESS_SECONDS")) {
        std::printf("stress threads=%zu: %.1f s, %.0f writes/s, %.0f reads/s, %llu optimize+flush, %zu segments\n",
                    threads, elapsed, double(sh.writes) / elapsed, double(sh.reads) / elapsed,
                    (unsigned long long)sh.optimizes.load(), c->Info().segments_count);
      }
      for (const std::string& e : sh.errors.Take()) FAIL_CHECK(e);
      CHECK(sh.errors.count() == 0);
      CHECK(sh.writes > 0);
      CHECK(sh.reads > 0);
      CheckFinal(sh);
      REQUIRE((*db)->Close().ok());
    }
    // The same after closing and opening again.
    auto db = DatabaseCore::OpenStorage(Options(pool.get()), &st);
    REQUIRE(db.ok());
    auto c = *(*db)->GetCollection("c");
    sh.c = c.get();
    sh.db = db->get();
    CheckFinal(sh);
    REQUIRE((*db)->Close().ok());
  }
}

}  // namespace
}  // namespace quiver

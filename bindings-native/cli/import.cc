// quiver import: streams points from a file into a collection in batches, with a progress bar on stderr (when
// it is a terminal, or with --progress) and a summary with throughput on stdout.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include <boost/json.hpp>

#include "cli.h"
#include "readers.h"

namespace quiver::cli {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(Clock::now()), last_(start_) {}

  void Update(size_t done, size_t total, double fraction, bool force = false) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double f = total ? double(done) / double(total) : fraction;
    double secs = Seconds(start_);
    double rate = secs > 0 ? double(done) / secs : 0;
    constexpr int kWidth = 30;
    char line[160];
    if (f >= 0) {
      f = std::min(1.0, std::max(0.0, f));
      int filled = int(f * kWidth);
      std::string bar(size_t(filled), '=');
      if (filled < kWidth) bar += '>';
      bar.resize(kWidth, ' ');
      std::snprintf(line, sizeof(line), "\r[%s] %3d%% %zu%s%s points  %.0f points/s ", bar.c_str(),
                    int(f * 100), done, total ? "/" : "", total ? std::to_string(total).c_str() : "", rate);
    } else {
      std::snprintf(line, sizeof(line), "\r%zu points  %.0f points/s ", done, rate);
    }
    std::fputs(line, stderr);
    std::fflush(stderr);
    drawn_ = true;
  }
  void Message(const char* text) {
    if (!enabled_) return;
    std::fprintf(stderr, "\r%-78s", text);
    std::fflush(stderr);
    drawn_ = true;
  }
  void Finish() {
    if (enabled_ && drawn_) std::fputs("\n", stderr);
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_, last_;
};

// The dimension of the first point's vector `vector_name` (0 if it has none), for --create.
uint32_t BatchDim(const Batch& b, const std::string& vector_name) {
  if (!b.jsonl_lines.empty()) {
    const size_t start = b.jsonl_starts[0];
    const size_t end = b.jsonl_lines.size() > 1 ? b.jsonl_starts[1] - 1 : b.jsonl.size() - 2;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(std::string_view(b.jsonl).substr(start, end - start), ec);
    const boost::json::object* o = ec ? nullptr : v.if_object();
    const boost::json::value* vec = o ? o->if_contains("vector") : nullptr;
    if (vec && vec->is_object()) vec = vec->get_object().if_contains(vector_name);
    return vec && vec->is_array() ? static_cast<uint32_t>(vec->get_array().size()) : 0;
  }
  if (b.points.empty()) return b.dim;
  auto it = b.points[0].vectors.find(vector_name);
  return it == b.points[0].vectors.end() ? 0 : static_cast<uint32_t>(it->second.size());
}

}  // namespace

int CmdImport(Context& ctx, const Args& args) {
  const std::string& name = args.positional[0];
  const std::string& path = args.positional[1];
  ReaderOptions ropts;
  ropts.format = args.Get("format");
  ropts.id_start = GetSize(args, "id-start", 0);
  ropts.vector_name = args.Get("vector-name");
  const size_t batch_size = std::max<size_t>(1, GetSize(args, "batch", 1000));
  const size_t limit = GetSize(args, "limit", SIZE_MAX);
  const bool progress = !args.Has("no-progress") && (args.Has("progress") || ::isatty(STDERR_FILENO));

  auto reader = OpenReader(path, ropts);
  if (!reader.ok()) return Fail(reader.status());
  Batch batch;
  auto first = (*reader)->Next(std::min(batch_size, limit), &batch);
  if (!first.ok()) return Fail(first.status());
  if (!*first) return Fail(Status::InvalidArgument(path + ": no points in the file"));
  const uint32_t file_dim = BatchDim(batch, ropts.vector_name);

  auto coll = ctx.GetCollection(name);
  if (!coll.ok() && coll.status().IsNotFound() && (args.Has("create") || args.Has("distance"))) {
    auto config = ConfigFromArgs(args, file_dim);
    if (!config.ok()) return Fail(config.status());
    if (Status s = ctx.db().CreateCollection(name, *config); !s.ok()) return Fail(s);
    std::cerr << "created collection '" << name << "' (" << file_dim << " dimensions, "
              << DistanceName(config->vectors.begin()->second.distance) << ")\n";
    coll = ctx.GetCollection(name);
  }
  if (!coll.ok()) {
    if (coll.status().IsNotFound()) {
      return Fail(Status::NotFound(std::string(coll.status().message()) + "; add --create to create it"));
    }
    return Fail(coll.status());
  }
  Collection& c = **coll;

  ProgressBar bar(progress);
  const auto start = Clock::now();
  const size_t total = std::min((*reader)->total(), limit);
  size_t imported = 0;
  bool more = true;
  while (more) {
    if (batch.size() + imported > limit) batch.Truncate(limit - imported);
    Status s = batch.Write(c, ropts.vector_name);
    if (!s.ok()) {
      bar.Finish();
      std::cerr << "quiver: import stopped after " << imported << " points (earlier batches are kept)\n";
      if (!batch.jsonl_lines.empty()) return Fail(s);  // the message names the file and line
      return Fail(s, path + ": batch starting at point " + std::to_string(imported));
    }
    imported += batch.size();
    bar.Update(imported, total, (*reader)->fraction());
    if (imported >= limit) break;
    auto next = (*reader)->Next(std::min(batch_size, limit - imported), &batch);
    if (!next.ok()) {
      bar.Finish();
      std::cerr << "quiver: import stopped after " << imported << " points (earlier batches are kept)\n";
      return Fail(next.status());
    }
    more = *next;
  }
  bar.Update(imported, total, 1.0, true);
  const double write_secs = Seconds(start);
  bar.Message("indexing: merging segments and building the HNSW graph ...");
  Status s = c.Optimize();
  if (s.ok()) s = ctx.Close();  // flushes: durable from here
  bar.Finish();
  if (!s.ok()) return Fail(s, "finishing the import");
  const double secs = Seconds(start);
  std::printf(
      "imported %zu points into '%s' in %.2f s: %.0f points/s (writes %.2f s at %.0f points/s, then "
      "indexing %.2f s)\n",
      imported, name.c_str(), secs, secs > 0 ? double(imported) / secs : 0.0, write_secs,
      write_secs > 0 ? double(imported) / write_secs : 0.0, secs - write_secs);
  return kExitOk;
}

}  // namespace quiver::cli

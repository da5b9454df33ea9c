// Quiver's HNSW as a benchmark engine.
#include <fstream>

#include "ann_engines.h"
#include "index/hnsw_index.h"
#include "simd/distance.h"
#if !defined(__EMSCRIPTEN__)
#include "quiver/thread_pool.h"
#endif

namespace quiver::bench {
namespace {

// "quiver": float vectors; "quiver-sq8": the same graph with scalar quantization (quantile 0.99), searched on the
// int8 codes and rescored with the floats.
class QuiverEngine final : public Engine {
 public:
  explicit QuiverEngine(bool sq8) : sq8_(sq8) {}
  std::string name() const override { return sq8_ ? "quiver-sq8" : "quiver"; }
  std::string detail() const override { return std::string(simd::Best().isa); }

  Status Build(const Dataset& ds, const BuildParams& params) override {
    QUIVER_ASSIGN_OR_RETURN(index_, index::HnswIndex::Create(ds.dim, ds.metric, {params.m, params.ef_construction, 42}));
#if !defined(__EMSCRIPTEN__)
    if (params.threads > 1) {
      ThreadPool pool(params.threads);
      QUIVER_RETURN_IF_ERROR(index_->AddBatch(ds.base.data(), ds.base_count, &pool));
      if (sq8_) index_->Quantize(kQuantile);
      return Status::OK();
    }
#endif
    QUIVER_RETURN_IF_ERROR(index_->AddBatch(ds.base.data(), ds.base_count, nullptr));
    if (sq8_) index_->Quantize(kQuantile);
    return Status::OK();
  }

  Status Save(const std::string& path) const override {
    std::string image = index_->Serialize();
    std::ofstream out(path, std::ios::binary);
    out.write(image.data(), image.size());
    return out ? Status::OK() : Status::IOError("cannot write " + path);
  }

  Status Load(const Dataset& ds, const std::string& path) override {
    QUIVER_ASSIGN_OR_RETURN(std::string image, ReadFile(path));
    QUIVER_ASSIGN_OR_RETURN(index_, index::HnswIndex::Deserialize(
                                        {reinterpret_cast<const uint8_t*>(image.data()), image.size()}));
    if (index_->dim() != ds.dim || index_->size() != ds.base_count) {
      return Status::InvalidArgument(path + " does not hold an index of " + ds.name);
    }
    if (sq8_) index_->Quantize(kQuantile);
    return Status::OK();
  }

  void SetEf(size_t ef) override { params_.ef = ef; }

  void Search(const float* query, size_t k, std::vector<uint32_t>* out) override {
    params_.k = k;
    (void)index_->Search(query, params_, nullptr, &found_);
    out->clear();
    for (const auto& nb : found_) out->push_back(nb.row);
  }

 private:
  static constexpr float kQuantile = 0.99f;
  bool sq8_;
  std::unique_ptr<index::HnswIndex> index_;
  index::SearchParams params_;
  std::vector<index::Neighbor> found_;
};

}  // namespace

std::unique_ptr<Engine> MakeQuiverEngine(bool sq8) { return std::make_unique<QuiverEngine>(sq8); }

}  // namespace quiver::bench

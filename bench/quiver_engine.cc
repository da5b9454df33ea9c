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

class QuiverEngine final : public Engine {
 public:
  std::string name() const override { return "quiver"; }
  std::string detail() const override { return std::string(simd::Best().isa); }

  Status Build(const Dataset& ds, const BuildParams& params) override {
    QUIVER_ASSIGN_OR_RETURN(index_, index::HnswIndex::Create(ds.dim, ds.metric, {params.m, params.ef_construction, 42}));
#if !defined(__EMSCRIPTEN__)
    if (params.threads > 1) {
      ThreadPool pool(params.threads);
      return index_->AddBatch(ds.base.data(), ds.base_count, &pool);
    }
#endif
    return index_->AddBatch(ds.base.data(), ds.base_count, nullptr);
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
  std::unique_ptr<index::HnswIndex> index_;
  index::SearchParams params_;
  std::vector<index::Neighbor> found_;
};

}  // namespace

std::unique_ptr<Engine> MakeQuiverEngine() { return std::make_unique<QuiverEngine>(); }

}  // namespace quiver::bench

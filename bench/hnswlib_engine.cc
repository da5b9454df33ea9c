// hnswlib 0.6.2 (Debian's libhnswlib-dev) as a benchmark engine. This file is compiled with the flags of
// Quiver's widest kernel build, so hnswlib gets its own AVX-512 (or AVX) distance functions. hnswlib does not
// normalise for cosine: vectors and queries are normalised here, inside the timed calls, as Quiver does inside
// its own.
#include <hnswlib/hnswlib.h>

#include <cmath>

#include "ann_engines.h"

namespace quiver::bench {
namespace {

void Normalise(float* v, uint32_t dim) {
  float s = 0;
  for (uint32_t i = 0; i < dim; ++i) s += v[i] * v[i];
  if (s > 0) {
    float inv = 1.0f / std::sqrt(s);
    for (uint32_t i = 0; i < dim; ++i) v[i] *= inv;
  }
}

class HnswlibEngine final : public Engine {
 public:
  std::string name() const override { return "hnswlib"; }
  std::string detail() const override { return "0.6.2"; }

  Status Build(const Dataset& ds, const BuildParams& params) override {
    Init(ds);
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), ds.base_count, params.m,
                                                                params.ef_construction, 42);
    std::vector<float> v(dim_);
    for (size_t i = 0; i < ds.base_count; ++i) {
      std::copy_n(&ds.base[i * dim_], dim_, v.data());
      if (cosine_) Normalise(v.data(), dim_);
      index_->addPoint(v.data(), i);
    }
    return Status::OK();
  }

  Status Save(const std::string& path) const override {
    index_->saveIndex(path);
    return Status::OK();
  }

  Status Load(const Dataset& ds, const std::string& path) override {
    Init(ds);
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), path);
    if (index_->cur_element_count != ds.base_count) return Status::InvalidArgument(path + " does not fit " + ds.name);
    return Status::OK();
  }

  void SetEf(size_t ef) override { index_->setEf(ef); }

  void Search(const float* query, size_t k, std::vector<uint32_t>* out) override {
    const float* q = query;
    if (cosine_) {
      std::copy_n(query, dim_, qbuf_.data());
      Normalise(qbuf_.data(), dim_);
      q = qbuf_.data();
    }
    auto result = index_->searchKnn(q, k);
    out->resize(result.size());
    for (size_t i = result.size(); i-- > 0;) {
      (*out)[i] = static_cast<uint32_t>(result.top().second);
      result.pop();
    }
  }

 private:
  void Init(const Dataset& ds) {
    dim_ = ds.dim;
    cosine_ = ds.metric == index::Metric::kCosine;
    qbuf_.resize(dim_);
    if (cosine_) {
      space_ = std::make_unique<hnswlib::InnerProductSpace>(dim_);
    } else {
      space_ = std::make_unique<hnswlib::L2Space>(dim_);
    }
  }

  uint32_t dim_ = 0;
  bool cosine_ = false;
  std::vector<float> qbuf_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

}  // namespace

std::unique_ptr<Engine> MakeHnswlibEngine() { return std::make_unique<HnswlibEngine>(); }

}  // namespace quiver::bench

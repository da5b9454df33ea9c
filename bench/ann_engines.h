// The indexes the ANN benchmark compares, behind one small interface: Quiver's HNSW (native or WASM, the same
// code) and, natively, hnswlib from Debian's libhnswlib-dev.
#ifndef QUIVER_BENCH_ANN_ENGINES_H_
#define QUIVER_BENCH_ANN_ENGINES_H_

#include <memory>
#include <string>
#include <vector>

#include "ann_datasets.h"

namespace quiver::bench {

struct BuildParams {
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  size_t threads = 1;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  // Extra facts for the report (the SIMD instruction set, say).
  virtual std::string detail() const { return ""; }
  virtual Status Build(const Dataset& ds, const BuildParams& params) = 0;
  virtual Status Save(const std::string& path) const = 0;
  virtual Status Load(const Dataset& ds, const std::string& path) = 0;
  virtual void SetEf(size_t ef) = 0;
  // One query per call; writes the rows of the k nearest, best first.
  virtual void Search(const float* query, size_t k, std::vector<uint32_t>* out) = 0;
};

std::unique_ptr<Engine> MakeQuiverEngine(bool sq8 = false);
#if defined(QUIVER_BENCH_HNSWLIB)
std::unique_ptr<Engine> MakeHnswlibEngine();
#endif

}  // namespace quiver::bench

#endif  // QUIVER_BENCH_ANN_ENGINES_H_

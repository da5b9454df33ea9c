#include "simd/distance.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "base/random.h"

namespace quiver::simd {
namespace {

struct Reference {
  double value;
  double magnitude;  // sum of |terms|, bounds the rounding error of any summation order
};

Reference RefL2(const float* a, const float* b, size_t n) {
  double s = 0, m = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = double(a[i]) - double(b[i]);
    s += d * d;
    m += d * d;
  }
  return {s, m};
}

Reference RefIp(const float* a, const float* b, size_t n) {
  double s = 0, m = 0;
  for (size_t i = 0; i < n; ++i) {
    s += double(a[i]) * double(b[i]);
    m += std::fabs(double(a[i]) * double(b[i]));
  }
  return {s, m};
}

Reference RefL1(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += std::fabs(double(a[i]) - double(b[i]));
  return {s, s};
}

// float32 accumulation of n terms, in any order, stays within about n * eps * magnitude of the exact sum.
void CheckClose(float got, Reference ref, size_t n) {
  const double tolerance = (n + 4) * 1.2e-7 * ref.magnitude + 1e-30;
  INFO("got " << got << " expected " << ref.value << " tolerance " << tolerance);
  REQUIRE(std::fabs(double(got) - ref.value) <= tolerance);
}

TEST_CASE("kernels: the best instruction set is chosen and reported", "[simd]") {
  auto all = Available();
  REQUIRE(all.size() >= 2);
  CHECK(all.front() == &Best());
  CHECK(all.back() == &Scalar());
  CHECK_FALSE(Best().isa.empty());
  CHECK(Scalar().isa == "scalar");
#if defined(__EMSCRIPTEN__)
  CHECK(Best().isa == "wasm-simd128");
#endif
}

TEST_CASE("kernels: every instruction set matches the reference for dims 1..1024 and unaligned input", "[simd]") {
  SplitMix64 rng(123);
  std::vector<float> a(1024 + 8), b(1024 + 8);
  for (auto& x : a) x = static_cast<float>(rng.NextDouble() * 4 - 2);
  for (auto& x : b) x = static_cast<float>(rng.NextDouble() * 4 - 2);
  for (const Kernels* k : Available()) {
    INFO("isa " << k->isa);
    for (size_t n = 1; n <= 1024; ++n) {
      const size_t oa = n % 4, ob = (n / 4) % 3;  // misalign both inputs differently
      const float* pa = a.data() + oa;
      const float* pb = b.data() + ob;
      INFO("n " << n);
      CheckClose(k->l2_squared(pa, pb, n), RefL2(pa, pb, n), n);
      CheckClose(k->inner_product(pa, pb, n), RefIp(pa, pb, n), n);
      CheckClose(k->l1(pa, pb, n), RefL1(pa, pb, n), n);
    }
    CHECK(k->l2_squared(a.data(), b.data(), 0) == 0.0f);
    CHECK(k->inner_product(a.data(), b.data(), 0) == 0.0f);
  }
}

TEST_CASE("kernels: the four-at-once forms match the reference", "[simd]") {
  SplitMix64 rng(321);
  std::vector<float> q(1024 + 4), v(4 * (1024 + 4));
  for (auto& x : q) x = static_cast<float>(rng.NextDouble() * 2 - 1);
  for (auto& x : v) x = static_cast<float>(rng.NextDouble() * 2 - 1);
  for (const Kernels* k : Available()) {
    INFO("isa " << k->isa);
    for (size_t n = 1; n <= 1024; n += (n < 40 ? 1 : 29)) {
      const float* pq = q.data() + n % 3;
      const float* rows[4];
      for (size_t j = 0; j < 4; ++j) rows[j] = v.data() + j * (1024 + 4) + (n + j) % 4;
      float l2[4], ip[4], l1[4];
      k->l2_squared_x4(pq, rows, n, l2);
      k->inner_product_x4(pq, rows, n, ip);
      k->l1_x4(pq, rows, n, l1);
      INFO("n " << n);
      for (size_t j = 0; j < 4; ++j) {
        CheckClose(l2[j], RefL2(pq, rows[j], n), n);
        CheckClose(ip[j], RefIp(pq, rows[j], n), n);
        CheckClose(l1[j], RefL1(pq, rows[j], n), n);
      }
    }
  }
}

TEST_CASE("kernels: identical vectors have zero L2 and L1 distance", "[simd]") {
  std::vector<float> a(777);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(float(i));
  for (const Kernels* k : Available()) {
    CHECK(k->l2_squared(a.data(), a.data(), a.size()) == 0.0f);
    CHECK(k->l1(a.data(), a.data(), a.size()) == 0.0f);
  }
}

// Decided behaviour: kernels follow IEEE arithmetic. A NaN anywhere gives NaN; an infinity gives an infinity
// or NaN of the same kind as the scalar reference, whichever lane or tail position it lands in.
TEST_CASE("kernels: NaN and infinity propagate as in the scalar reference", "[simd]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t n : {1u, 3u, 7u, 16u, 33u, 100u, 384u}) {
    for (size_t pos : {size_t{0}, n / 2, n - 1}) {
      std::vector<float> a(n, 0.5f), b(n, 0.25f);
      for (const Kernels* k : Available()) {
        INFO("isa " << k->isa << " n " << n << " pos " << pos);
        a[pos] = nan;
        CHECK(std::isnan(k->l2_squared(a.data(), b.data(), n)));
        CHECK(std::isnan(k->inner_product(a.data(), b.data(), n)));
        CHECK(std::isnan(k->l1(b.data(), a.data(), n)));

        a[pos] = inf;  // inf - 0.25 = inf, squared inf; inf * 0.25 = inf
        CHECK(std::isinf(k->l2_squared(a.data(), b.data(), n)));
        CHECK(k->inner_product(a.data(), b.data(), n) == inf);
        CHECK(k->l1(a.data(), b.data(), n) == inf);

        b[pos] = inf;  // inf - inf = NaN; inf * inf = inf
        CHECK(std::isnan(k->l2_squared(a.data(), b.data(), n)));
        CHECK(k->inner_product(a.data(), b.data(), n) == inf);
        b[pos] = -inf;  // inf * -inf = -inf
        CHECK(k->inner_product(a.data(), b.data(), n) == -inf);
        if (n > 1) {
          // +inf and -inf terms in different lanes: NaN, as in the reference.
          a[(pos + 1) % n] = inf;
          b[(pos + 1) % n] = inf;
          CHECK(std::isnan(k->inner_product(a.data(), b.data(), n)));
          CHECK(std::isnan(Scalar().inner_product(a.data(), b.data(), n)));
          a[(pos + 1) % n] = 0.5f;
          b[(pos + 1) % n] = 0.25f;
        }
        a[pos] = 0.5f;
        b[pos] = 0.25f;
      }
    }
  }
}

TEST_CASE("code kernels: every instruction set gives the exact integer sums for dims 1..1024", "[simd]") {
  SplitMix64 rng(77);
  std::vector<int8_t> a(1024 + 16), b(1024 + 16);
  for (auto& x : a) x = static_cast<int8_t>(int(rng() % 255) - 127);
  for (auto& x : b) x = static_cast<int8_t>(int(rng() % 255) - 127);
  for (const Kernels* k : Available()) {
    INFO("isa " << k->isa);
    for (size_t n = 1; n <= 1024; n += (n < 64 ? 1 : 13)) {
      for (size_t offset : {size_t{0}, size_t{1}, size_t{3}}) {
        INFO("n " << n << " offset " << offset);
        const int8_t* x = a.data() + offset;
        const int8_t* y = b.data() + 15 - offset;
        int64_t dot = 0, l1 = 0;
        for (size_t i = 0; i < n; ++i) {
          dot += int64_t{x[i]} * y[i];
          l1 += std::abs(int64_t{x[i]} - y[i]);
        }
        REQUIRE(k->code_dot(x, y, n) == dot);
        REQUIRE(k->code_l1(x, y, n) == l1);
        const int8_t* rows[4] = {y, x, a.data() + 7, b.data()};
        int32_t out[4];
        k->code_dot_x4(x, rows, n, out);
        for (int j = 0; j < 4; ++j) REQUIRE(out[j] == k->code_dot(x, rows[j], n));
      }
    }
  }
}

TEST_CASE("code kernels: the extreme codes do not overflow at the largest dimension", "[simd]") {
  const size_t n = 65536;
  std::vector<int8_t> hi(n, 127), lo(n, -127);
  for (const Kernels* k : Available()) {
    INFO("isa " << k->isa);
    CHECK(k->code_dot(hi.data(), hi.data(), n) == int64_t{127} * 127 * int64_t(n));
    CHECK(k->code_dot(hi.data(), lo.data(), n) == -int64_t{127} * 127 * int64_t(n));
    CHECK(k->code_l1(hi.data(), lo.data(), n) == int64_t{254} * int64_t(n));
  }
}

TEST_CASE("Normalize scales to unit length, leaves zero alone and survives overflow", "[simd]") {
  std::vector<float> v = {3, 4, 0, 0, 0};
  CHECK(Normalize(v.data(), v.size()) == Approx(5.0f));
  CHECK(v[0] == Approx(0.6f));
  CHECK(v[1] == Approx(0.8f));

  std::vector<float> zero(9, 0.0f);
  CHECK(Normalize(zero.data(), zero.size()) == 0.0f);
  for (float x : zero) CHECK(x == 0.0f);

  std::vector<float> huge(64, 3e38f);
  Normalize(huge.data(), huge.size());
  for (float x : huge) CHECK(x == Approx(0.125f));
}

}  // namespace
}  // namespace quiver::simd

// The built-in GEMM's portable micro-kernel, for CPUs without AVX2 and FMA (and for every CPU that is
// not x86-64): plain C++ on GCC's vector extension, which the compiler turns into SSE2 on x86-64, NEON
// on ARM64, or scalar code elsewhere. Compiled for the baseline instruction set.
//
// The tile is 4 x 8: eight 4-float accumulators, which fit the sixteen registers of SSE2 with room for
// the B strip and a broadcast value.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "gemm.h"
#include "kernels.h"

namespace bk {
namespace {

typedef float v4 __attribute__((vector_size(16)));

inline v4 load4(const float* p) {
  v4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store4(float* p, v4 v) { std::memcpy(p, &v, sizeof v); }

struct Micro {
  static constexpr int64_t MR = 4;
  static constexpr int64_t NR = 8;

  static void run(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta) {
    v4 acc[MR][2];
    for (int64_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = v4{0.0f, 0.0f, 0.0f, 0.0f};
    for (int64_t k = 0; k < kc; ++k) {
      const v4 b0 = load4(b), b1 = load4(b + 4);
      for (int64_t i = 0; i < MR; ++i) {
        const v4 x = v4{a[i], a[i], a[i], a[i]};
        acc[i][0] += x * b0;
        acc[i][1] += x * b1;
      }
      a += MR;
      b += NR;
    }
    const v4 va = v4{alpha, alpha, alpha, alpha};
    for (int64_t i = 0; i < MR; ++i) {
      float* row = c + i * ldc;
      if (beta == 0.0f) {
        store4(row, va * acc[i][0]);
        store4(row + 4, va * acc[i][1]);
      } else {
        const v4 vb = v4{beta, beta, beta, beta};
        store4(row, va * acc[i][0] + vb * load4(row));
        store4(row + 4, va * acc[i][1] + vb * load4(row + 4));
      }
    }
  }
};

#include "gemm_driver.h"

}  // namespace

const int64_t kPortableTileRows = Micro::MR;
const int64_t kPortableTileCols = Micro::NR;

bool sgemm_portable(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return drive(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace bk

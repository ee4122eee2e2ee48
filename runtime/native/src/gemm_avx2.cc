// The built-in GEMM's AVX2 + FMA micro-kernel (x86-64 CPUs since 2013), and the driver compiled around
// it. Only this file is built with -mavx2 -mfma: gemm.cc calls in here only after checking the CPU
// (__builtin_cpu_supports), so the same addon still loads and runs, on the portable kernel, on a CPU
// without them.
//
// The tile is 6 x 16: twelve 8-float accumulators, two registers for a row of the B strip and one for a
// broadcast value of A, fifteen of the sixteen vector registers, as in BLIS's and OpenBLAS's Haswell
// kernels. Each step of k is two loads, six broadcasts and twelve fused multiply-adds.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>

#include "gemm.h"
#include "kernels.h"

namespace bk {
namespace {

struct Micro {
  static constexpr int64_t MR = 6;
  static constexpr int64_t NR = 16;

  static inline void store_row(float* c, __m256 lo, __m256 hi, __m256 alpha, float beta) {
    if (beta == 0.0f) {
      _mm256_storeu_ps(c, _mm256_mul_ps(alpha, lo));
      _mm256_storeu_ps(c + 8, _mm256_mul_ps(alpha, hi));
    } else {
      const __m256 vb = _mm256_set1_ps(beta);
      _mm256_storeu_ps(c, _mm256_fmadd_ps(alpha, lo, _mm256_mul_ps(vb, _mm256_loadu_ps(c))));
      _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(alpha, hi, _mm256_mul_ps(vb, _mm256_loadu_ps(c + 8))));
    }
  }

  static void run(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_load_ps(b);
      const __m256 b1 = _mm256_load_ps(b + 8);
      __m256 x = _mm256_broadcast_ss(a);
      c00 = _mm256_fmadd_ps(x, b0, c00);
      c01 = _mm256_fmadd_ps(x, b1, c01);
      x = _mm256_broadcast_ss(a + 1);
      c10 = _mm256_fmadd_ps(x, b0, c10);
      c11 = _mm256_fmadd_ps(x, b1, c11);
      x = _mm256_broadcast_ss(a + 2);
      c20 = _mm256_fmadd_ps(x, b0, c20);
      c21 = _mm256_fmadd_ps(x, b1, c21);
      x = _mm256_broadcast_ss(a + 3);
      c30 = _mm256_fmadd_ps(x, b0, c30);
      c31 = _mm256_fmadd_ps(x, b1, c31);
      x = _mm256_broadcast_ss(a + 4);
      c40 = _mm256_fmadd_ps(x, b0, c40);
      c41 = _mm256_fmadd_ps(x, b1, c41);
      x = _mm256_broadcast_ss(a + 5);
      c50 = _mm256_fmadd_ps(x, b0, c50);
      c51 = _mm256_fmadd_ps(x, b1, c51);
      a += MR;
      b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    store_row(c, c00, c01, va, beta);
    store_row(c + ldc, c10, c11, va, beta);
    store_row(c + 2 * ldc, c20, c21, va, beta);
    store_row(c + 3 * ldc, c30, c31, va, beta);
    store_row(c + 4 * ldc, c40, c41, va, beta);
    store_row(c + 5 * ldc, c50, c51, va, beta);
  }
};

#include "gemm_driver.h"

}  // namespace

const int64_t kAvx2TileRows = Micro::MR;
const int64_t kAvx2TileCols = Micro::NR;

bool sgemm_avx2(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  return drive(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace bk

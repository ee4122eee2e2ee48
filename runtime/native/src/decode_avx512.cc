// The decoder's linear layers from panels on AVX-512 (decode_panels.h): a panel row of 16 columns is one
// register, so a block of R rows and C panels holds R·C accumulators and each k costs C loads, R
// broadcasts and R·C fused multiply-adds, twice the columns per instruction of the AVX2 kernels, with
// the same arithmetic per element. Blocks: one row against 8 panels (its 8 accumulators hide the adds'
// latency), or up to 12 rows against 2 panels (24 accumulators, 2 loads a k). Compiled with -mavx512f
// (build.mjs), and called only where decode_avx512() says the CPU has it.
#include <immintrin.h>

#include <cstdint>

#include "decode_panels.h"

namespace bk {

namespace {

constexpr int kMaxRows = 12;

// Not std::min: a library template instantiated in this unit could be the copy the linker keeps for
// the whole addon, and run with AVX-512 instructions on a CPU without them. Everything here has
// internal linkage but the entry point.
inline int64_t lesser(int64_t a, int64_t b) { return a < b ? a : b; }

// acc[r][c] over k: x[r][k] times panel c's row k. Then y = acc + bias, the columns past N left alone.
template <int R, int C>
inline void tile(const float* const* x, const float* P, int64_t K, const float* bias, int64_t n0, int64_t N,
                 float* const* y) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m512 w[C];
    for (int c = 0; c < C; ++c) w[c] = _mm512_loadu_ps(P + (c * K + k) * 16);
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_set1_ps(x[r][k]);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(xv, w[c], acc[r][c]);
    }
  }
  for (int c = 0; c < C; ++c) {
    const int64_t at = n0 + 16 * c, width = lesser(16, N - at);
    const __mmask16 m = width >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << width) - 1);
    const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + at) : _mm512_setzero_ps();
    for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y[r] + at, m, _mm512_add_ps(acc[r][c], b));
  }
}

// tile<rows, C> for a block of `rows` rows (1 … R).
template <int C, int R = kMaxRows>
inline void rows_tile(int rows, const float* const* x, const float* P, int64_t K, const float* bias, int64_t n0, int64_t N,
                      float* const* y) {
  if constexpr (R > 1) {
    if (rows < R) return rows_tile<C, R - 1>(rows, x, P, K, bias, n0, N, y);
  }
  tile<R, C>(x, P, K, bias, n0, N, y);
}

}  // namespace

void panel_block_avx512(const float* x, int64_t xStride, int64_t M, const float* panels, const float* bias, int64_t N,
                        int64_t K, float* y, int64_t yStride, int64_t p0, int64_t p1) {
  if (M == 1) {
    int64_t p = p0;
    for (; p + 8 <= p1; p += 8) tile<1, 8>(&x, panels + p * K * 16, K, bias, p * 16, N, &y);
    for (; p + 2 <= p1; p += 2) tile<1, 2>(&x, panels + p * K * 16, K, bias, p * 16, N, &y);
    if (p < p1) tile<1, 1>(&x, panels + p * K * 16, K, bias, p * 16, N, &y);
    return;
  }
  // Blocks of rows as even as they come (13 rows: 7 and 6, not 12 and 1).
  const int64_t blocks = (M + kMaxRows - 1) / kMaxRows, per = (M + blocks - 1) / blocks;
  for (int64_t p = p0; p < p1; p += 2) {
    const float* P = panels + p * K * 16;
    for (int64_t m = 0; m < M; m += per) {
      const int rows = static_cast<int>(lesser(per, M - m));
      const float* xs[kMaxRows];
      float* ys[kMaxRows];
      for (int i = 0; i < rows; ++i) {
        xs[i] = x + (m + i) * xStride;
        ys[i] = y + (m + i) * yStride;
      }
      if (p + 2 <= p1) rows_tile<2>(rows, xs, P, K, bias, p * 16, N, ys);
      else rows_tile<1>(rows, xs, P, K, bias, p * 16, N, ys);
    }
  }
}

}  // namespace bk

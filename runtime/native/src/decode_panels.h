// The decoder's linear layers from panels (decode.cc's pack_panels: panel p holds columns [16p, 16p + 16)
// of Wᵀ, K rows of 16, zeros past N). Every kernel here computes an output element the same way: one
// accumulator from zero taking the K products in order by fused multiply-adds, then the bias added (a
// zero where there is none), so any kernel, any instruction set and any block of rows give the same bits.
// decode.cc has the AVX2 kernels; decode_avx512.cc the AVX-512 ones, compiled for AVX-512F alone (where
// build.mjs compiled it: x86-64, BK_HAVE_AVX512_DECODE) and chosen at run time from the CPU's features.
#pragma once

#include <cstdint>

namespace bk {

// Panels [p0, p1) of y = x Wᵀ + b for M rows (x and y rows `xStride` and `yStride` floats apart).
void panel_block_avx512(const float* x, int64_t xStride, int64_t M, const float* panels, const float* bias, int64_t N,
                        int64_t K, float* y, int64_t yStride, int64_t p0, int64_t p1);

// Whether the decoder runs the AVX-512 panels: built in, the CPU has AVX-512F, and
// BABYGPT_DECODE_KERNEL=avx2 does not ask for the AVX2 ones (to test or compare them). Decided once.
bool decode_avx512();

}  // namespace bk

// The one matrix product every kernel calls, and the built-in GEMM behind it where no BLAS library is
// used. Plain functions only, like kernels.h: this header is read by translation units built for
// different instruction sets.
#pragma once

#include <cstdint>

namespace bk {

// C = alpha * op(A) op(B) + beta * C on row-major matrices, single-threaded (the kernels split their
// work over the pool and call this per block). op(A) is M x K: A is M x K (lda >= K), or K x M when
// transA (lda >= M); op(B) is K x N: B is K x N (ldb >= N), or N x K when transB (ldb >= K). As in BLAS,
// C is not read when beta is 0 (it may hold garbage, even NaN), and A and B are not read when alpha is 0
// or K is 0. The build picks what runs it (blas_*.cc): OpenBLAS, Accelerate, or the built-in GEMM.
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Rows and columns of the register tile of the sgemm in use: the kernels cut products into blocks whose
// edges fall on multiples of these where the sizes allow.
int64_t sgemm_tile_rows();
int64_t sgemm_tile_cols();

// ---- the built-in GEMM (gemm.cc, gemm_avx2.cc, gemm_portable.cc) ----

// Which micro-kernel: the best this CPU runs (AVX2 and FMA where the CPU has them, else the portable
// one), or one named.
enum GemmKernel : int32_t { kGemmBest = 0, kGemmAvx2 = 1, kGemmPortable = 2 };

// sgemm with the built-in GEMM's kernel `which` (kGemmBest: the one chosen at load time). Returns false
// when its packing buffers could not be allocated (C is then unspecified and out_of_memory() is set), or
// when `which` cannot run on this CPU or was not compiled in.
bool builtin_sgemm(int32_t which, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
// Whether a kernel can run here (compiled in and supported by the CPU).
bool builtin_kernel_available(int32_t which);
// The kernel kGemmBest runs: picked once from the CPU's features, or from BABYGPT_GEMM_KERNEL
// (avx2 | portable) where that names one this CPU can run.
int32_t builtin_best_kernel();
// "AVX2" or "portable".
const char* builtin_kernel_name(int32_t which);
int64_t builtin_tile_rows(int32_t which);
int64_t builtin_tile_cols(int32_t which);

// The micro-kernels' drivers, one per instruction set (gemm_driver.h compiled in each file).
bool sgemm_avx2(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
bool sgemm_portable(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
extern const int64_t kAvx2TileRows, kAvx2TileCols, kPortableTileRows, kPortableTileCols;

}  // namespace bk

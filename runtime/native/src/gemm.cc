// The built-in GEMM's front: picks the micro-kernel once, from the CPU's features, and runs products on
// it. Compiled for the baseline instruction set, like addon.cc and threads.cc: this code runs before
// anyone knows whether the CPU has AVX2. The AVX2 kernel exists where build.mjs compiled gemm_avx2.cc
// (x86-64, BK_HAVE_AVX2_KERNEL); the portable one everywhere.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "gemm.h"
#include "kernels.h"

namespace bk {

bool builtin_kernel_available(int32_t which) {
  switch (which) {
    case kGemmPortable: return true;
    case kGemmAvx2:
#if defined(BK_HAVE_AVX2_KERNEL) && (defined(__x86_64__) || defined(__i386__))
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    default: return false;
  }
}

namespace {

int32_t pick_kernel() {
  // BABYGPT_GEMM_KERNEL=portable runs the fallback on a CPU that has better (to test or compare it).
  const char* forced = std::getenv("BABYGPT_GEMM_KERNEL");
  if (forced != nullptr && std::strcmp(forced, "portable") == 0) return kGemmPortable;
  return builtin_kernel_available(kGemmAvx2) ? kGemmAvx2 : kGemmPortable;
}

}  // namespace

int32_t builtin_best_kernel() {
  static const int32_t best = pick_kernel();
  return best;
}

const char* builtin_kernel_name(int32_t which) {
  if (which == kGemmBest) which = builtin_best_kernel();
  return which == kGemmAvx2 ? "AVX2" : "portable";
}

int64_t builtin_tile_rows(int32_t which) {
  if (which == kGemmBest) which = builtin_best_kernel();
#if defined(BK_HAVE_AVX2_KERNEL)
  if (which == kGemmAvx2) return kAvx2TileRows;
#endif
  return kPortableTileRows;
}

int64_t builtin_tile_cols(int32_t which) {
  if (which == kGemmBest) which = builtin_best_kernel();
#if defined(BK_HAVE_AVX2_KERNEL)
  if (which == kGemmAvx2) return kAvx2TileCols;
#endif
  return kPortableTileCols;
}

bool builtin_sgemm(int32_t which, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (which == kGemmBest) which = builtin_best_kernel();
  else if (!builtin_kernel_available(which)) return false;
#if defined(BK_HAVE_AVX2_KERNEL)
  if (which == kGemmAvx2) return sgemm_avx2(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  return sgemm_portable(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace bk

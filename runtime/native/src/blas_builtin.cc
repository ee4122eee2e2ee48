// The build without a BLAS library: every matrix product runs on the built-in GEMM (gemm.cc), with the
// micro-kernel picked from the CPU's features. build.mjs compiles this file when OpenBLAS is not found
// (or with BABYGPT_BLAS=builtin): `npm ci` on a machine with nothing but a C++ compiler still gets a
// fast native backend.
#include <cstdio>

#include "gemm.h"
#include "kernels.h"

namespace bk {

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  // False only when the packing buffers could not be allocated: checked_malloc has recorded it, and the
  // binding that called the kernel throws.
  builtin_sgemm(kGemmBest, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

int64_t sgemm_tile_rows() { return builtin_tile_rows(kGemmBest); }
int64_t sgemm_tile_cols() { return builtin_tile_cols(kGemmBest); }

void init_threads() {
  static bool done = false;
  if (done) return;
  done = true;
  set_pool_threads(default_thread_count());
  builtin_best_kernel();
}

const char* blas_name() {
  static char buf[64];
  std::snprintf(buf, sizeof buf, "built-in GEMM, %s", builtin_kernel_name(kGemmBest));
  return buf;
}

const char* blas_info() {
  static char buf[128];
  std::snprintf(buf, sizeof buf, "the built-in GEMM (%s micro-kernel, %lldx%lld tiles; %d threads)", builtin_kernel_name(kGemmBest),
                static_cast<long long>(builtin_tile_rows(kGemmBest)), static_cast<long long>(builtin_tile_cols(kGemmBest)),
                pool_threads());
  return buf;
}

}  // namespace bk

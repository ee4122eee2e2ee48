// The macOS build: matrix products on Apple's Accelerate framework (cblas_sgemm), called single-threaded
// from the addon's pool. Not tested on this project's machines (they run Linux); build.mjs picks it on
// macOS unless BABYGPT_BLAS=builtin.
#include <Accelerate/Accelerate.h>

#include <cstdio>
#include <cstdlib>

#include "gemm.h"
#include "kernels.h"

namespace bk {

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

int64_t sgemm_tile_rows() { return 16; }
int64_t sgemm_tile_cols() { return 16; }

void init_threads() {
  static bool done = false;
  if (done) return;
  done = true;
  // The pool splits the work; Accelerate's own threads would compete with it (read when vecLib first
  // runs, so set before any product).
  setenv("VECLIB_MAXIMUM_THREADS", "1", 0);
  set_pool_threads(default_thread_count());
}

const char* blas_name() { return "Accelerate"; }

const char* blas_info() {
  static char buf[128];
  std::snprintf(buf, sizeof buf, "Apple Accelerate (%d threads, each calling cblas_sgemm)", pool_threads());
  return buf;
}

}  // namespace bk

// The builds on a CBLAS library: every matrix product is the library's cblas_sgemm, called
// single-threaded from the addon's own pool (threads.cc). build.mjs compiles this file with
// BK_BLAS_OPENBLAS where OpenBLAS is found (or asked for with BABYGPT_BLAS=openblas), or with
// BK_BLAS_ACCELERATE on macOS, for Apple's Accelerate framework. The Accelerate build is not tested on
// this project's machines, which run Linux.
#if defined(BK_BLAS_ACCELERATE)
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gemm.h"
#include "kernels.h"

#if !defined(BK_BLAS_ACCELERATE)
extern "C" {
// OpenBLAS extensions; declared here because a generic cblas.h does not have them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
#endif

namespace bk {

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

// OpenBLAS's Haswell and Zen kernels work on 16-row tiles; blocks of 16 suit Accelerate too.
int64_t sgemm_tile_rows() { return 16; }
int64_t sgemm_tile_cols() { return 16; }

#if defined(BK_BLAS_ACCELERATE)

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

#else

void init_threads() {
  static bool done = false;
  if (done) return;
  done = true;
  // OpenBLAS has read OPENBLAS_NUM_THREADS and its kin (or counted the cores) when it loaded.
  set_pool_threads(openblas_get_num_threads());
  openblas_set_num_threads(1);
}

const char* blas_name() {
  // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." -> "OpenBLAS 0.3.21"
  static char buf[64];
  std::snprintf(buf, sizeof buf, "%s", openblas_get_config());
  char* space = std::strchr(buf, ' ');
  if (space != nullptr) space = std::strchr(space + 1, ' ');
  if (space != nullptr) *space = '\0';
  return buf;
}

const char* blas_info() {
  static char buf[256];
  std::snprintf(buf, sizeof buf, "%s (core %s; %d threads, each calling OpenBLAS single-threaded)", openblas_get_config(),
                openblas_get_corename(), pool_threads());
  return buf;
}

#endif

}  // namespace bk

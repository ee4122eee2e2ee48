// The OpenBLAS build: every matrix product is OpenBLAS's sgemm, called single-threaded from the
// addon's own pool (threads.cc). build.mjs compiles this file when OpenBLAS is found (or asked for with
// BABYGPT_BLAS=openblas).
#include <cblas.h>

#include <cstdio>
#include <cstring>

#include "gemm.h"
#include "kernels.h"

extern "C" {
// OpenBLAS extensions; declared here because a generic cblas.h does not have them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace bk {

void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

// OpenBLAS's Haswell and Zen kernels work on 16-row tiles.
int64_t sgemm_tile_rows() { return 16; }
int64_t sgemm_tile_cols() { return 16; }

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

}  // namespace bk

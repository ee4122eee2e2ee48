// The built-in GEMM's blocked driver, the way BLIS and OpenBLAS organise a matrix product: B is copied
// ("packed") one KC x NC block at a time into strips of NR columns, A one MC x KC block at a time into
// strips of MR rows, and a micro-kernel multiplies one strip of each into an MR x NR tile of C held in
// registers. The blocks are sized so that the packed A block stays in L2 and a strip of B in L1 while the
// micro-kernel sweeps over them; packing also turns every layout (transposed or not, any leading
// dimension) into the same contiguous order, zero-padded to whole tiles, so the micro-kernel has no
// edge cases.
//
// Included, inside an anonymous namespace, by each file that compiles a micro-kernel for its own
// instruction set (gemm_avx2.cc, gemm_portable.cc): every function here then has internal linkage, so
// the AVX2 copy can never be picked by the linker for code running on a CPU without AVX2.
//
// The file that includes this defines `struct Micro` first, with
//   static constexpr int64_t MR, NR;
//   static void run(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha, float beta);
// which sets the full MR x NR tile c = alpha * (a strip x b strip) + beta * c, not reading c when beta
// is 0. `a` holds kc groups of MR values (one per row), `b` kc groups of NR values, 64-byte aligned.

// Block sizes: KC x NR floats of B (16 KiB at NR = 16) stay in L1, MC x KC of A (144 KiB) in L2, and a
// KC x NC block of B (4 MiB) in L3. MC and NC are multiples of every kernel's MR and NR.
constexpr int64_t KC = 256;
constexpr int64_t MC = 144;
constexpr int64_t NC = 4096;

inline int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

// One thread's packing buffers, kept between calls (a training step makes thousands of products of the
// same few sizes). The pool's workers live as long as the process, and so do their buffers.
struct PackBuffer {
  void* raw = nullptr;
  float* data = nullptr;
  int64_t capacity = 0;  // floats

  // Room for n floats, 64-byte aligned; null when memory runs out (checked_malloc records it).
  float* reserve(int64_t n) {
    if (n <= capacity) return data;
    void* fresh = bk::checked_malloc(static_cast<size_t>(n) * sizeof(float) + 64);
    if (fresh == nullptr) return nullptr;
    std::free(raw);
    raw = fresh;
    data = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(fresh) + 63) & ~static_cast<uintptr_t>(63));
    capacity = n;
    return data;
  }
};

thread_local PackBuffer packA;
thread_local PackBuffer packB;

// Rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A), as strips of MR rows: strip s holds, for each k,
// the MR values of rows i0 + s*MR ... (zeros past the last row).
void pack_a(const float* a, int64_t lda, bool transA, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
  constexpr int64_t MR = Micro::MR;
  for (int64_t s = 0; s < mc; s += MR) {
    const int64_t rows = min64(MR, mc - s);
    float* __restrict dst = out + s * kc;
    if (transA) {
      // A is K x M: the MR values of one k are side by side.
      for (int64_t k = 0; k < kc; ++k) {
        const float* __restrict src = a + (p0 + k) * lda + i0 + s;
        for (int64_t i = 0; i < rows; ++i) dst[k * MR + i] = src[i];
        for (int64_t i = rows; i < MR; ++i) dst[k * MR + i] = 0.0f;
      }
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        const float* __restrict src = a + (i0 + s + i) * lda + p0;
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
      }
      for (int64_t i = rows; i < MR; ++i)
        for (int64_t k = 0; k < kc; ++k) dst[k * MR + i] = 0.0f;
    }
  }
}

// Rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B), as strips of NR columns (zeros past the last).
void pack_b(const float* b, int64_t ldb, bool transB, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  constexpr int64_t NR = Micro::NR;
  for (int64_t s = 0; s < nc; s += NR) {
    const int64_t cols = min64(NR, nc - s);
    float* __restrict dst = out + s * kc;
    if (transB) {
      // B is N x K: each column of op(B) is a row of B, read along k.
      for (int64_t j = 0; j < cols; ++j) {
        const float* __restrict src = b + (j0 + s + j) * ldb + p0;
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
      }
      for (int64_t j = cols; j < NR; ++j)
        for (int64_t k = 0; k < kc; ++k) dst[k * NR + j] = 0.0f;
    } else {
      for (int64_t k = 0; k < kc; ++k) {
        const float* __restrict src = b + (p0 + k) * ldb + j0 + s;
        for (int64_t j = 0; j < cols; ++j) dst[k * NR + j] = src[j];
        for (int64_t j = cols; j < NR; ++j) dst[k * NR + j] = 0.0f;
      }
    }
  }
}

// C = beta * C over M x N (C = 0 when beta is 0, whatever C held).
void scale_c(int64_t M, int64_t N, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* __restrict row = c + i * ldc;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < N; ++j) row[j] = 0.0f;
    } else if (beta != 1.0f) {
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

bool drive(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  constexpr int64_t MR = Micro::MR, NR = Micro::NR;
  if (M <= 0 || N <= 0) return true;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, c, ldc);
    return true;
  }
  const int64_t kcMax = min64(K, KC);
  float* bp = packB.reserve(kcMax * min64((N + NR - 1) / NR * NR, NC));
  float* ap = packA.reserve(kcMax * min64((M + MR - 1) / MR * MR, MC));
  if (bp == nullptr || ap == nullptr) return false;
  alignas(64) float edge[MR * NR];
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = min64(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kc = min64(KC, K - pc);
      pack_b(b, ldb, transB, pc, kc, jc, nc, bp);
      // The first pass over K applies beta; later ones add to what it left.
      const float betaHere = pc == 0 ? beta : 1.0f;
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = min64(MC, M - ic);
        pack_a(a, lda, transA, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t cols = min64(NR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t rows = min64(MR, mc - ir);
            float* ct = c + (ic + ir) * ldc + jc + jr;
            if (rows == MR && cols == NR) {
              Micro::run(kc, ap + ir * kc, bp + jr * kc, ct, ldc, alpha, betaHere);
              continue;
            }
            // A tile cut by the edge of C: computed whole into `edge`, then the part inside C merged.
            Micro::run(kc, ap + ir * kc, bp + jr * kc, edge, NR, 1.0f, 0.0f);
            for (int64_t i = 0; i < rows; ++i) {
              float* __restrict row = ct + i * ldc;
              const float* __restrict e = edge + i * NR;
              if (betaHere == 0.0f) {
                for (int64_t j = 0; j < cols; ++j) row[j] = alpha * e[j];
              } else {
                for (int64_t j = 0; j < cols; ++j) row[j] = alpha * e[j] + betaHere * row[j];
              }
            }
          }
        }
      }
    }
  }
  return true;
}

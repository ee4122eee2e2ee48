// The decoder (decode.h): a decode plan run in place. The plan arrives flattened (runtime/native/decode.ts
// writes it): a header, the buffers, the activations, the caches, then the steps, each an int record with
// its numbers in the float stream. Everything a step touches is allocated here once, for the largest batch
// and the block size; a step then costs its arithmetic and a loop over the plan.
//
// Rows: an activation is [B*T, width] (`last` ones [B, width]: each sequence's last position); a step marked
// last reads the last position of the activations that hold every position. Products over one position per
// sequence (T = 1, or a last step) run kernels whose every row is computed the same way whatever the
// batch (a linear layer's weight copied into panels once, or dot products), so a batch of samples gives
// each the bits it gets alone; wider products (a window) run sgemm, or the panels too where the CPU has
// AVX-512 (decode_avx512.cc, faster than sgemm on a window of a small model, whose weights it packs again
// at every call).
//
// Compiled for the kernels' instruction set (x86-64-v3 where the build chose it), like kernels.cc.
#include "decode.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "decode_panels.h"
#include "gemm.h"
#include "kernels.h"
#include "parallel.h"

namespace bk {

bool decode_avx512() {
#if defined(BK_HAVE_AVX512_DECODE)
  static const bool on = [] {
    const char* forced = std::getenv("BABYGPT_DECODE_KERNEL");
    if (forced != nullptr && std::strcmp(forced, "avx2") == 0) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return on;
#else
  return false;
#endif
}

namespace {

constexpr int32_t kPlanVersion = 1;
// The most parts a step's loop is cut into (the pool's threads, at most this).
constexpr int64_t kMaxParts = 64;
// Linear weights copied into panels (pack_panels) per decoder, at most: 64 Mi floats (256 MiB). Past it,
// the layers left run the dot-product blocks on the model's own weights.
constexpr int64_t kMaxPanelFloats = int64_t{64} << 20;
// Activations of an MLP (erf, exp): each part of the pool takes at least this many values (so fewer than
// twice as many run on one thread).
constexpr int64_t kActivationsPerPart = 1024;

struct Expert {
  const float* gate = nullptr;
  const float* fc = nullptr;
  const float* proj = nullptr;
  const float* gateBias = nullptr;
  const float* fcBias = nullptr;
  const float* projBias = nullptr;
};

struct Step {
  int32_t kind = 0;
  bool last = false;
  // Activations read (x; or a, b; or gate, up; or q, k, v; or x, scores) and written.
  int32_t in[3] = {-1, -1, -1};
  int32_t offset[3] = {0, 0, 0};
  int32_t out = -1;
  // Weights: the table, gain, shift, cos and sin, the scalar weight; a linear's (packed) weight and bias.
  const float* t0 = nullptr;
  const float* t1 = nullptr;
  const float* weight = nullptr;
  const float* bias = nullptr;
  // A linear layer's weight in panels of 16 columns for one position per sequence (pack_panels), or null.
  const float* panels = nullptr;
  int64_t N = 0, K = 0;
  // dim (norms), fn (activations), heads, kvHeads, headSize, window, cache, topK, hidden, half (rope),
  // table rows (positions, rope).
  int32_t dim = 0, fn = 0, heads = 0, kvHeads = 0, headSize = 0, window = 0, cache = -1, topK = 0, hidden = 0, half = 0;
  float f0 = 0.0f;  // eps, scale, cap
  float softcap = 0.0f;
  std::vector<float> slopes;  // ALiBi, one per query head
  std::vector<Expert> experts;
};

struct Value {
  int32_t width = 0;
  bool last = false;
  int32_t buffer = -1;
};

struct Cache {
  int32_t kvHeads = 0, headSize = 0;
  std::vector<float> k, v;  // [maxB, maxT, kvHeads*headSize]
};

// Rows of an operand: row i at p + i*stride.
struct Rows {
  float* p;
  int64_t stride;
};

}  // namespace

struct Decoder {
  int32_t vocab = 0, maxT = 0, maxB = 0;
  std::vector<std::vector<float>> buffers;
  std::vector<Value> values;
  std::vector<Cache> caches;
  std::vector<Step> steps;
  std::vector<std::vector<float>> owned;  // packed weights, ones and zeros for absent gains and shifts
  int64_t panelFloats = 0;  // floats of linear weights copied into panels so far (kMaxPanelFloats at most)
  int32_t logits = -1;
  std::vector<float> scratch;  // per part: attention's scores, a mixture's routing and hidden rows
  int64_t scratchPerPart = 0;
  int64_t parts = 1;  // parts a step's loop is cut into at most: the scratch holds one part's rows each
  std::vector<float> stats;  // a norm's mean and rstd per group of features
  bool profile = false;
  double times[kProfileSlots] = {};
};

namespace {

void say(char* error, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void say(char* error, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(error, size, fmt, ap);
  va_end(ap);
}

// ---- the kernels of one step ----

// Dot products of x's rows with W's rows (y = x Wᵀ + b) for one position per sequence. Every (row, column)
// is the same arithmetic whichever block computes it: one 8-wide accumulator taking 8 values a round,
// summed across, then the tail by fused multiply-adds, then the bias. So a row's result does not depend
// on the batch it is in, and a batch of samples gives each the bits it gets alone. Blocks of several rows
// of x against several of W share their loads: 4 x 3 for a batch, 1 x 4 for one sample.
#if defined(__AVX2__) && defined(__FMA__)
inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

// R rows of x against C rows of W (R*C <= 12): out[r*C + c] = x[r]·w[c].
template <int R, int C>
inline void dots(const float* const* w, const float* const* x, int64_t K, float* out) {
  __m256 acc[R * C];
  for (int i = 0; i < R * C; ++i) acc[i] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 wv[C];
    for (int c = 0; c < C; ++c) wv[c] = _mm256_loadu_ps(w[c] + k);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_loadu_ps(x[r] + k);
      for (int c = 0; c < C; ++c) acc[r * C + c] = _mm256_fmadd_ps(wv[c], xv, acc[r * C + c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float sum = hsum(acc[r * C + c]);
      for (int64_t j = k; j < K; ++j) sum = std::fma(w[c][j], x[r][j], sum);
      out[r * C + c] = sum;
    }
}
#else
template <int R, int C>
inline void dots(const float* const* w, const float* const* x, int64_t K, float* out) {
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float a[8] = {};
      int64_t k = 0;
      for (; k + 8 <= K; k += 8)
        for (int j = 0; j < 8; ++j) a[j] = std::fma(w[c][k + j], x[r][k + j], a[j]);
      // The order hsum adds the lanes in.
      float sum = ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
      for (; k < K; ++k) sum = std::fma(w[c][k], x[r][k], sum);
      out[r * C + c] = sum;
    }
}
#endif

// The same products from a weight laid out in panels: panel p holds columns [16p, 16p + 16) of Wᵀ, K rows
// of 16 (zeros past N). Each (row, column) is one accumulator taking the K products in order by fused
// multiply-adds, then the bias: the same arithmetic whichever block of rows computes it, as above, with
// no sum across lanes. Blocks of up to 6 rows share each panel row's two loads.
void pack_panels(const float* W, int64_t N, int64_t K, float* out) {
  const int64_t panels = (N + 15) / 16;
  std::fill(out + N / 16 * K * 16, out + panels * K * 16, 0.0f);  // the last panel's columns past N
  for (int64_t n = 0; n < N; ++n) {
    float* col = out + (n / 16 * K) * 16 + n % 16;
    for (int64_t k = 0; k < K; ++k) col[k * 16] = W[n * K + k];
  }
}

template <int R>
inline void panel_rows(const float* P, const float* const* x, int64_t K, float* out) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 a[R][2];
  for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_loadu_ps(P + k * 16), w1 = _mm256_loadu_ps(P + k * 16 + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_broadcast_ss(x[r] + k);
      a[r][0] = _mm256_fmadd_ps(xv, w0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(xv, w1, a[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(out + r * 16, a[r][0]);
    _mm256_storeu_ps(out + r * 16 + 8, a[r][1]);
  }
#else
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 16; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc = std::fma(x[r][k], P[k * 16 + j], acc);
      out[r * 16 + j] = acc;
    }
#endif
}

// One row against C panels at a time (out[c*16 + j]): the same accumulators as panel_rows's, but 2*C of
// them independent, where one row's two would wait on each other's latency.
template <int C>
inline void panel_cols(const float* P, int64_t K, const float* x, float* out) {
#if defined(__AVX2__) && defined(__FMA__)
  __m256 a[C][2];
  for (int c = 0; c < C; ++c) a[c][0] = a[c][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 xv = _mm256_broadcast_ss(x + k);
    for (int c = 0; c < C; ++c) {
      a[c][0] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(P + (c * K + k) * 16), a[c][0]);
      a[c][1] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(P + (c * K + k) * 16 + 8), a[c][1]);
    }
  }
  for (int c = 0; c < C; ++c) {
    _mm256_storeu_ps(out + c * 16, a[c][0]);
    _mm256_storeu_ps(out + c * 16 + 8, a[c][1]);
  }
#else
  for (int c = 0; c < C; ++c) {
    const float* xs[1] = {x};
    panel_rows<1>(P + c * K * 16, xs, K, out + c * 16);
  }
#endif
}

// Panels [p0, p1) of y for M rows.
void panel_block(Rows x, int64_t M, const float* panels, const float* bias, int64_t N, int64_t K, Rows y, int64_t p0, int64_t p1) {
#if defined(BK_HAVE_AVX512_DECODE)
  if (decode_avx512()) {
    panel_block_avx512(x.p, x.stride, M, panels, bias, N, K, y.p, y.stride, p0, p1);
    return;
  }
#endif
  float r[6 * 16];
  if (M == 1) {
    for (int64_t p = p0; p < p1; p += 4) {
      const int64_t c = std::min<int64_t>(4, p1 - p);
      const float* P = panels + p * K * 16;
      switch (c) {
        case 4: panel_cols<4>(P, K, x.p, r); break;
        case 3: panel_cols<3>(P, K, x.p, r); break;
        case 2: panel_cols<2>(P, K, x.p, r); break;
        default: panel_cols<1>(P, K, x.p, r); break;
      }
      const int64_t n0 = p * 16, width = std::min<int64_t>(16 * c, N - n0);
      for (int64_t j = 0; j < width; ++j) y.p[n0 + j] = r[j] + (bias != nullptr ? bias[n0 + j] : 0.0f);
    }
    return;
  }
  for (int64_t p = p0; p < p1; ++p) {
    const float* P = panels + p * K * 16;
    const int64_t n0 = p * 16, width = std::min<int64_t>(16, N - n0);
    // Blocks of rows as even as they come (8 rows: 4 and 4, not 6 and 2, whose loads would outweigh its
    // arithmetic).
    const int64_t blocks = (M + 5) / 6, per = (M + blocks - 1) / blocks;
    for (int64_t m = 0; m < M; m += per) {
      const int64_t rows = std::min<int64_t>(per, M - m);
      const float* xs[6];
      for (int64_t i = 0; i < rows; ++i) xs[i] = x.p + (m + i) * x.stride;
      switch (rows) {
        case 6: panel_rows<6>(P, xs, K, r); break;
        case 5: panel_rows<5>(P, xs, K, r); break;
        case 4: panel_rows<4>(P, xs, K, r); break;
        case 3: panel_rows<3>(P, xs, K, r); break;
        case 2: panel_rows<2>(P, xs, K, r); break;
        default: panel_rows<1>(P, xs, K, r); break;
      }
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < width; ++j) y.p[(m + i) * y.stride + n0 + j] = r[i * 16 + j] + (bias != nullptr ? bias[n0 + j] : 0.0f);
    }
  }
}

void panel_product(Rows x, int64_t M, const float* panels, const float* bias, int64_t N, int64_t K, Rows y) {
  const int64_t units = (N + 15) / 16;
  const int64_t parts = std::min(parts_for(M * N * K, 1 << 14), units);
  if (parts <= 1) {
    panel_block(x, M, panels, bias, N, K, y, 0, units);
    return;
  }
  par(units, parts, [&](int64_t u0, int64_t u1, int64_t) { panel_block(x, M, panels, bias, N, K, y, u0, u1); });
}

// Columns [n0, n1) of y for M rows.
void dot_rows_block(Rows x, int64_t M, const float* W, const float* bias, int64_t K, Rows y, int64_t n0, int64_t n1) {
  auto put = [&](int64_t m, int64_t n, float v) { y.p[m * y.stride + n] = v + (bias != nullptr ? bias[n] : 0.0f); };
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) {
    const float* xs[4] = {x.p + m * x.stride, x.p + (m + 1) * x.stride, x.p + (m + 2) * x.stride, x.p + (m + 3) * x.stride};
    int64_t n = n0;
    for (; n + 3 <= n1; n += 3) {
      const float* ws[3] = {W + n * K, W + (n + 1) * K, W + (n + 2) * K};
      float r[12];
      dots<4, 3>(ws, xs, K, r);
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j) put(m + i, n + j, r[i * 3 + j]);
    }
    for (; n < n1; ++n) {
      const float* ws[1] = {W + n * K};
      float r[4];
      dots<4, 1>(ws, xs, K, r);
      for (int i = 0; i < 4; ++i) put(m + i, n, r[i]);
    }
  }
  for (; m < M; ++m) {
    const float* xs[1] = {x.p + m * x.stride};
    int64_t n = n0;
    for (; n + 4 <= n1; n += 4) {
      const float* ws[4] = {W + n * K, W + (n + 1) * K, W + (n + 2) * K, W + (n + 3) * K};
      float r[4];
      dots<1, 4>(ws, xs, K, r);
      for (int i = 0; i < 4; ++i) put(m, n + i, r[i]);
    }
    for (; n < n1; ++n) {
      const float* ws[1] = {W + n * K};
      float r[1];
      dots<1, 1>(ws, xs, K, r);
      put(m, n, r[0]);
    }
  }
}

void dot_rows(Rows x, int64_t M, const float* W, const float* bias, int64_t N, int64_t K, Rows y) {
  const int64_t parts = parts_for(M * N * K, 1 << 14);
  if (parts <= 1) {
    dot_rows_block(x, M, W, bias, K, y, 0, N);
    return;
  }
  // Blocks of 16 columns, so that no two parts write one cache line of a row of y.
  const int64_t units = (N + 15) / 16;
  par(units, parts < units ? parts : units, [&](int64_t u0, int64_t u1, int64_t) {
    dot_rows_block(x, M, W, bias, K, y, u0 * 16, std::min(N, u1 * 16));
  });
}

// y = x Wᵀ + b for M rows: for one position per sequence, the panels where the layer has them and dot
// products otherwise; for wider products, the panels on AVX-512 and sgemm (over the pool) elsewhere.
void linear_rows(Rows x, int64_t M, const float* W, const float* panels, const float* bias, int64_t N, int64_t K, Rows y, bool onePosition) {
  if (panels != nullptr && (onePosition || decode_avx512())) {
    panel_product(x, M, panels, bias, N, K, y);
    return;
  }
  if (onePosition || x.stride != K || y.stride != N) {
    dot_rows(x, M, W, bias, N, K, y);
    return;
  }
  matmul(x.p, W, y.p, bias, 1, 1, 1, nullptr, nullptr, M, N, K, false, true, 0, 1.0f, false);
}

inline float act_of(int32_t fn, float v) {
  switch (fn) {
    case 0: return v < 0.0f ? 0.0f : v;                                                    // relu
    case 1: return v * 0.5f * (1.0f + std::erf(v * 0.70710678118654752f));                 // gelu (exact)
    case 2: return v / (1.0f + std::exp(-v));                                              // silu
    default: { const float r = v < 0.0f ? 0.0f : v; return r * r; }                        // relu2
  }
}

// Softmax over the experts' scores, the top k by score (the lower index on ties), their probabilities
// renormalized: runtime/ops/routing.ts's topKRouting for one token.
void route(const float* scores, int64_t E, int32_t k, float* probs, int32_t* chosen, float* weights) {
  float mx = scores[0];
  for (int64_t e = 1; e < E; ++e) mx = std::max(mx, scores[e]);
  float sum = 0.0f;
  for (int64_t e = 0; e < E; ++e) sum += (probs[e] = std::exp(scores[e] - mx));
  for (int64_t e = 0; e < E; ++e) probs[e] /= sum;
  float total = 0.0f;
  for (int32_t j = 0; j < k; ++j) {
    int32_t best = -1;
    for (int64_t e = 0; e < E; ++e) {
      bool taken = false;
      for (int32_t i = 0; i < j; ++i) taken |= chosen[i] == e;
      if (!taken && (best < 0 || scores[e] > scores[best])) best = static_cast<int32_t>(e);
    }
    chosen[j] = best;
    total += probs[best];
  }
  for (int32_t j = 0; j < k; ++j) weights[j] = probs[chosen[j]] / total;
}

}  // namespace

// ---- sampling ----

int32_t pick_token(const float* logits, int64_t V, double temperature, int64_t topK, double topP, double u) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; ++i)
    if (logits[i] > logits[best]) best = i;
  if (temperature == 0.0) return static_cast<int32_t>(best);
  std::vector<int32_t> order(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; ++i) order[i] = static_cast<int32_t>(i);
  if (topK > 0 && topK < V) {
    auto byLogit = [&](int32_t a, int32_t b) {
      const double d = static_cast<double>(logits[b]) - static_cast<double>(logits[a]);
      return d != 0.0 && d == d ? d < 0.0 : a < b;
    };
    std::partial_sort(order.begin(), order.begin() + topK, order.end(), byLogit);
    order.resize(static_cast<size_t>(topK));
  }
  const double mx = logits[best];
  std::vector<double> weights(order.size());
  for (size_t j = 0; j < order.size(); ++j) weights[j] = std::exp((static_cast<double>(logits[order[j]]) - mx) / temperature);
  if (topP < 1.0) {
    std::vector<size_t> ranked(order.size());
    for (size_t j = 0; j < ranked.size(); ++j) ranked[j] = j;
    std::sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) {
      const double d = weights[b] - weights[a];
      return d != 0.0 && d == d ? d < 0.0 : order[a] < order[b];
    });
    double total = 0.0;
    for (size_t r : ranked) total += weights[r];
    size_t kept = 0;
    double mass = 0.0;
    while (kept < ranked.size() && (kept == 0 || mass < topP * total)) mass += weights[ranked[kept++]];
    std::vector<int32_t> o(kept);
    std::vector<double> w(kept);
    for (size_t j = 0; j < kept; ++j) {
      o[j] = order[ranked[j]];
      w[j] = weights[ranked[j]];
    }
    order.swap(o);
    weights.swap(w);
  }
  double total = 0.0;
  for (double w : weights) total += w;
  double left = u * total;
  for (size_t j = 0; j < order.size(); ++j) {
    left -= weights[j];
    if (left < 0.0) return order[j];
  }
  return order.back();
}

// ---- the plan ----

namespace {

// Reads the flattened plan, checking every index and size against what it refers to.
class Reader {
 public:
  Reader(const int32_t* ints, int64_t nInts, const double* floats, int64_t nFloats, char* error, size_t errorSize)
      : ints_(ints), nInts_(nInts), floats_(floats), nFloats_(nFloats), error_(error), errorSize_(errorSize) {}
  bool ok() const { return ok_; }
  int32_t i() {
    if (pos_ >= nInts_) return fail("the plan ends early"), 0;
    return ints_[pos_++];
  }
  double f() {
    if (fpos_ >= nFloats_) return fail("the plan's numbers end early"), 0.0;
    return floats_[fpos_++];
  }
  bool done() const { return pos_ == nInts_ && fpos_ == nFloats_; }
  void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (!ok_) return;
    ok_ = false;
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(error_, errorSize_, fmt, ap);
    va_end(ap);
  }

 private:
  const int32_t* ints_;
  int64_t nInts_, pos_ = 0;
  const double* floats_;
  int64_t nFloats_, fpos_ = 0;
  char* error_;
  size_t errorSize_;
  bool ok_ = true;
};

}  // namespace

Decoder* decoder_create(const int32_t* ints, int64_t nInts, const double* floats, int64_t nFloats, const float* const* tensors,
                        const int64_t* tensorLengths, int64_t nTensors, int32_t maxBatch, bool profile, char* error,
                        size_t errorSize) {
  Reader r(ints, nInts, floats, nFloats, error, errorSize);
  auto d = std::make_unique<Decoder>();
  d->profile = profile;
  if (r.i() != kPlanVersion) r.fail("the plan's format is not version %d", kPlanVersion);
  d->vocab = r.i();
  d->maxT = r.i();
  d->maxB = maxBatch;
  const int32_t nBuffers = r.i(), nValues = r.i(), nCaches = r.i(), nSteps = r.i();
  d->logits = r.i();
  if (!r.ok()) return nullptr;
  if (d->vocab < 1 || d->maxT < 1 || maxBatch < 1 || maxBatch > 4096 || d->maxT > (1 << 20) || nBuffers < 0 || nValues < 0 ||
      nCaches < 0 || nSteps < 0) {
    say(error, errorSize, "a plan of vocabulary %d, block size %d for batches of %d", d->vocab, d->maxT, maxBatch);
    return nullptr;
  }
  const int64_t fullRows = static_cast<int64_t>(maxBatch) * d->maxT;
  std::vector<int32_t> bufferWidth(nBuffers);
  std::vector<bool> bufferLast(nBuffers);
  for (int32_t b = 0; b < nBuffers && r.ok(); ++b) {
    bufferWidth[b] = r.i();
    bufferLast[b] = r.i() != 0;
    if (bufferWidth[b] < 1 || bufferWidth[b] > (1 << 24)) r.fail("buffer %d is %d wide", b, bufferWidth[b]);
  }
  if (!r.ok()) return nullptr;
  d->buffers.resize(nBuffers);
  for (int32_t b = 0; b < nBuffers; ++b) d->buffers[b].assign(static_cast<size_t>((bufferLast[b] ? maxBatch : fullRows) * bufferWidth[b]), 0.0f);
  d->values.resize(nValues);
  for (Value& v : d->values) {
    v.width = r.i();
    v.last = r.i() != 0;
    v.buffer = r.i();
    if (!r.ok()) return nullptr;
    // Activations that no step writes have no buffer (-1); any other fits in its own.
    if (v.buffer >= nBuffers || v.buffer < -1 || (v.buffer >= 0 && (v.width > bufferWidth[v.buffer] || v.width < 1 || v.last != bufferLast[v.buffer]))) {
      r.fail("an activation of width %d in buffer %d", v.width, v.buffer);
      return nullptr;
    }
  }
  d->caches.resize(nCaches);
  for (Cache& c : d->caches) {
    c.kvHeads = r.i();
    c.headSize = r.i();
    if (!r.ok() || c.kvHeads < 1 || c.headSize < 1 || static_cast<int64_t>(c.kvHeads) * c.headSize > (1 << 24)) {
      r.fail("a cache of %d heads of %d", c.kvHeads, c.headSize);
      return nullptr;
    }
    c.k.assign(static_cast<size_t>(fullRows * c.kvHeads * c.headSize), 0.0f);
    c.v.assign(c.k.size(), 0.0f);
  }

  // Operands, checked as they are read.
  auto value = [&](int32_t id, const char* what) -> int32_t {
    if (id < 0 || id >= nValues || d->values[id].buffer < 0) r.fail("%s is activation %d, which no step writes", what, id);
    return id;
  };
  auto width = [&](int32_t id) { return id >= 0 && id < nValues ? d->values[id].width : 0; };
  auto tensor = [&](int32_t id, int64_t need, const char* what) -> const float* {
    if (id < 0 || id >= nTensors) {
      r.fail("%s is tensor %d of %lld", what, id, static_cast<long long>(nTensors));
      return nullptr;
    }
    if (tensorLengths[id] < need) {
      r.fail("%s (tensor %d) holds %lld values, not %lld", what, id, static_cast<long long>(tensorLengths[id]), static_cast<long long>(need));
      return nullptr;
    }
    return tensors[id];
  };
  auto optional = [&](int32_t id, int64_t need, const char* what, float fill) -> const float* {
    if (id >= 0) return tensor(id, need, what);
    d->owned.emplace_back(static_cast<size_t>(need), fill);
    return d->owned.back().data();
  };
  int64_t scratch = 1, stats = 1;
  std::vector<bool> written(nValues, false);
  d->steps.resize(nSteps);
  for (int32_t s = 0; s < nSteps && r.ok(); ++s) {
    Step& st = d->steps[s];
    st.kind = r.i();
    st.last = r.i() != 0;
    switch (st.kind) {
      case kStepEmbed: {
        st.out = value(r.i(), "embed's output");
        const int32_t table = r.i();
        st.f0 = static_cast<float>(r.f());
        st.t0 = tensor(table, static_cast<int64_t>(d->vocab) * width(st.out), "the embedding table");
        break;
      }
      case kStepPositions: {
        st.in[0] = value(r.i(), "the positions' input");
        st.out = value(r.i(), "the positions' output");
        st.t0 = tensor(r.i(), static_cast<int64_t>(d->maxT) * width(st.out), "a position table");
        if (width(st.in[0]) != width(st.out)) r.fail("position rows added to a row of another width");
        break;
      }
      case kStepLinear: {
        st.in[0] = value(r.i(), "a linear layer's input");
        st.out = value(r.i(), "a linear layer's output");
        st.K = width(st.in[0]);
        st.N = width(st.out);
        const int32_t nw = r.i();
        std::vector<int32_t> ws(nw > 0 && nw < 4096 ? nw : 0), bs;
        for (int32_t& w : ws) w = r.i();
        const int32_t nb = r.i();
        if (nb != 0 && nb != nw) r.fail("a linear layer of %d weights and %d biases", nw, nb);
        bs.resize(nb > 0 && nb < 4096 ? nb : 0);
        for (int32_t& b : bs) b = r.i();
        if (ws.empty() || st.N % static_cast<int64_t>(ws.size()) != 0) {
          r.fail("a linear layer of %d outputs from %d weights", static_cast<int>(st.N), nw);
          break;
        }
        const int64_t part = st.N / static_cast<int64_t>(ws.size());
        if (ws.size() == 1) {
          st.weight = tensor(ws[0], st.N * st.K, "a linear layer's weight");
          st.bias = bs.empty() ? nullptr : tensor(bs[0], st.N, "a linear layer's bias");
        } else {
          // Several projections stacked into one product (every head's q, k and v).
          d->owned.emplace_back(static_cast<size_t>(st.N * st.K));
          float* packed = d->owned.back().data();
          for (size_t i = 0; i < ws.size(); ++i) {
            const float* w = tensor(ws[i], part * st.K, "a projection's weight");
            if (w) std::memcpy(packed + i * part * st.K, w, sizeof(float) * part * st.K);
          }
          st.weight = packed;
          if (!bs.empty()) {
            d->owned.emplace_back(static_cast<size_t>(st.N));
            float* pb = d->owned.back().data();
            for (size_t i = 0; i < bs.size(); ++i) {
              const float* b = tensor(bs[i], part, "a projection's bias");
              if (b) std::memcpy(pb + i * part, b, sizeof(float) * part);
            }
            st.bias = pb;
          }
        }
        const int64_t panelFloats = (st.N + 15) / 16 * 16 * st.K;
        if (st.weight != nullptr && d->panelFloats + panelFloats <= kMaxPanelFloats) {
          d->owned.emplace_back(static_cast<size_t>(panelFloats));
          pack_panels(st.weight, st.N, st.K, d->owned.back().data());
          st.panels = d->owned.back().data();
          d->panelFloats += panelFloats;
        }
        break;
      }
      case kStepLayerNorm:
      case kStepRmsNorm: {
        st.in[0] = value(r.i(), "a norm's input");
        st.out = value(r.i(), "a norm's output");
        const int32_t gamma = r.i();
        const int32_t beta = st.kind == kStepLayerNorm ? r.i() : -1;
        st.dim = r.i();
        st.f0 = static_cast<float>(r.f());
        if (st.dim < 1 || width(st.out) % st.dim != 0 || width(st.in[0]) != width(st.out)) {
          r.fail("a norm over %d features of a row of %d", st.dim, width(st.out));
          break;
        }
        st.t0 = optional(gamma, st.dim, "a norm's gain", 1.0f);
        st.t1 = optional(beta, st.dim, "a norm's shift", 0.0f);
        stats = std::max<int64_t>(stats, 2 * fullRows * (width(st.out) / st.dim));
        break;
      }
      case kStepActivation:
      case kStepScale:
      case kStepScaleBy:
      case kStepSoftcap: {
        st.in[0] = value(r.i(), "an elementwise step's input");
        st.out = value(r.i(), "an elementwise step's output");
        if (st.kind == kStepActivation) st.fn = r.i();
        if (st.kind == kStepScale || st.kind == kStepSoftcap) st.f0 = static_cast<float>(r.f());
        if (st.kind == kStepScaleBy) st.t0 = tensor(r.i(), 1, "a learned scalar");
        if (width(st.in[0]) != width(st.out)) r.fail("an elementwise step changes the width");
        if (st.kind == kStepActivation && (st.fn < 0 || st.fn > 3)) r.fail("activation %d", st.fn);
        break;
      }
      case kStepGated:
      case kStepAdd: {
        st.in[0] = value(r.i(), "an elementwise step's input");
        st.in[1] = value(r.i(), "an elementwise step's input");
        st.out = value(r.i(), "an elementwise step's output");
        if (st.kind == kStepGated) st.fn = r.i();
        if (width(st.in[0]) != width(st.out) || width(st.in[1]) != width(st.out)) r.fail("an elementwise step over rows of different widths");
        if (st.kind == kStepGated && (st.fn < 0 || st.fn > 3)) r.fail("activation %d", st.fn);
        break;
      }
      case kStepRope: {
        st.in[0] = value(r.i(), "rotary embedding's input");
        st.out = value(r.i(), "rotary embedding's output");
        const int32_t cos = r.i(), sin = r.i();
        st.heads = r.i();
        st.headSize = r.i();
        st.half = r.i();
        if (st.heads < 1 || st.headSize < 1 || st.half < 0 || 2 * st.half > st.headSize || width(st.out) != st.heads * st.headSize ||
            width(st.in[0]) != width(st.out)) {
          r.fail("rotary embedding of %d heads of %d over a row of %d", st.heads, st.headSize, width(st.out));
          break;
        }
        st.t0 = tensor(cos, static_cast<int64_t>(d->maxT) * st.half, "rotary cos");
        st.t1 = tensor(sin, static_cast<int64_t>(d->maxT) * st.half, "rotary sin");
        break;
      }
      case kStepAttention: {
        for (int j = 0; j < 3; ++j) {
          st.in[j] = value(r.i(), "attention's q, k or v");
          st.offset[j] = r.i();
        }
        st.out = value(r.i(), "attention's output");
        st.cache = r.i();
        st.heads = r.i();
        st.kvHeads = r.i();
        st.headSize = r.i();
        st.window = r.i();
        const int32_t alibi = r.i();
        st.f0 = static_cast<float>(r.f());
        st.softcap = static_cast<float>(r.f());
        if (st.heads < 1 || st.kvHeads < 1 || st.headSize < 1 || st.heads % st.kvHeads != 0 || st.window < 0) {
          r.fail("attention of %d heads over %d kv heads of %d", st.heads, st.kvHeads, st.headSize);
          break;
        }
        if (st.cache < 0 || st.cache >= nCaches || d->caches[st.cache].kvHeads != st.kvHeads || d->caches[st.cache].headSize != st.headSize) {
          r.fail("attention's cache %d does not hold %d heads of %d", st.cache, st.kvHeads, st.headSize);
          break;
        }
        const int64_t widths[3] = {static_cast<int64_t>(st.heads) * st.headSize, static_cast<int64_t>(st.kvHeads) * st.headSize,
                                   static_cast<int64_t>(st.kvHeads) * st.headSize};
        for (int j = 0; j < 3; ++j)
          if (st.offset[j] < 0 || st.offset[j] + widths[j] > width(st.in[j])) r.fail("attention reads past a row's end");
        if (width(st.out) != widths[0]) r.fail("attention writes a row of %d, not %lld", width(st.out), static_cast<long long>(widths[0]));
        if (alibi) {
          st.slopes.resize(st.heads);
          for (float& sl : st.slopes) sl = static_cast<float>(r.f());
        }
        // A window's scores and weights, [T, P] each.
        scratch = std::max<int64_t>(scratch, 2 * static_cast<int64_t>(d->maxT) * d->maxT);
        break;
      }
      case kStepExperts: {
        st.in[0] = value(r.i(), "the experts' input");
        st.in[1] = value(r.i(), "the router's scores");
        st.out = value(r.i(), "the experts' output");
        st.topK = r.i();
        st.fn = r.i();
        st.hidden = r.i();
        const int32_t E = r.i();
        const int64_t C = width(st.out), H = st.hidden;
        if (E < 1 || E > 4096 || st.topK < 1 || st.topK > E || H < 1 || width(st.in[1]) != E || width(st.in[0]) != C || st.fn < 0 || st.fn > 3) {
          r.fail("a mixture of %d experts, top %d, hidden %d", E, st.topK, st.hidden);
          break;
        }
        st.experts.resize(E);
        for (Expert& e : st.experts) {
          const int32_t g = r.i(), fc = r.i(), proj = r.i(), gb = r.i(), fb = r.i(), pb = r.i();
          e.gate = g >= 0 ? tensor(g, H * C, "an expert's gate") : nullptr;
          e.fc = tensor(fc, H * C, "an expert's fc");
          e.proj = tensor(proj, C * H, "an expert's proj");
          e.gateBias = gb >= 0 ? tensor(gb, H, "an expert's gate bias") : nullptr;
          e.fcBias = fb >= 0 ? tensor(fb, H, "an expert's fc bias") : nullptr;
          e.projBias = pb >= 0 ? tensor(pb, C, "an expert's proj bias") : nullptr;
          if ((e.gate == nullptr) != (st.experts[0].gate == nullptr)) r.fail("gated and ungated experts in one mixture");
        }
        scratch = std::max<int64_t>(scratch, 3 * E + 2 * H + C);
        break;
      }
      default:
        r.fail("step %d is of kind %d", s, st.kind);
    }
    if (!r.ok()) break;
    for (int j = 0; j < 3; ++j) {
      if (st.in[j] < 0) continue;
      if (!written[st.in[j]]) r.fail("step %d reads activation %d before any step writes it", s, st.in[j]);
      // Only a step on the last rows reads activations that hold them alone; attention's keys and values
      // are every position's.
      const bool lastRows = d->values[st.in[j]].last;
      if (lastRows && (!st.last || (st.kind == kStepAttention && j > 0))) r.fail("step %d reads the last rows alone where it needs every position", s);
    }
    if (st.out >= 0) {
      if (d->values[st.out].last != st.last) r.fail("step %d writes the rows of another kind", s);
      written[st.out] = true;
    }
  }
  d->logits = value(d->logits, "the logits");
  if (r.ok() && width(d->logits) != d->vocab) r.fail("the logits are %d wide, not %d", width(d->logits), d->vocab);
  if (r.ok() && !r.done()) r.fail("the plan has more than its steps");
  if (!r.ok()) return nullptr;
  d->scratchPerPart = scratch;
  d->parts = std::max<int64_t>(1, std::min<int64_t>(pool_threads(), kMaxParts));
  d->scratch.assign(static_cast<size_t>(scratch * d->parts), 0.0f);
  d->stats.assign(static_cast<size_t>(stats), 0.0f);
  return d.release();
}

void decoder_destroy(Decoder* d) { delete d; }
int32_t decoder_vocab(const Decoder* d) { return d->vocab; }
const char* decoder_kernels() {
  if (decode_avx512()) return "avx512";
#if defined(__AVX2__) && defined(__FMA__)
  return "avx2";
#else
  return "portable";
#endif
}

int32_t decoder_block_size(const Decoder* d) { return d->maxT; }
int32_t decoder_max_batch(const Decoder* d) { return d->maxB; }

void decoder_profile(const Decoder* d, double* out) {
  for (int i = 0; i < kProfileSlots; ++i) out[i] = d->times[i];
}

namespace {

// One step's run: the batch, positions, and how each activation's rows are found.
struct Run {
  Decoder* d;
  const int32_t* tokens;
  int64_t B, T, past;
  float* base(int32_t v) const { return d->buffers[d->values[v].buffer].data(); }
  int64_t width(int32_t v) const { return d->values[v].width; }
  // The rows a step reads of v: all of them (a step over every position), or each sequence's last.
  Rows in(const Step& s, int32_t v, int64_t offset = 0) const {
    const Value& val = d->values[v];
    if (!s.last || val.last) return {base(v) + offset, val.width};
    return {base(v) + (T - 1) * val.width + offset, T * val.width};
  }
  Rows out(const Step& s) const { return {base(s.out), width(s.out)}; }
  int64_t rows(const Step& s) const { return s.last ? B : B * T; }
  // Position (in the sequence) of the step's row m.
  int64_t position(const Step& s, int64_t m) const { return past + (s.last ? T - 1 : m % T); }
  bool contiguous(const Step& s, int32_t v) const { return !s.last || d->values[v].last || T == 1; }
};

// Scores of one query row over keys [0, P): those outside [lo, p] masked, the others shaped as the
// reference shapes them (capped, biased by distance; the scale is the product's).
inline void shape_scores(const Step& s, int64_t h, int64_t p, int64_t lo, float* row, int64_t P) {
  for (int64_t j = 0; j < lo; ++j) row[j] = -INFINITY;
  for (int64_t j = p + 1; j < P; ++j) row[j] = -INFINITY;
  if (s.softcap > 0.0f)
    for (int64_t j = lo; j <= p; ++j) row[j] = std::tanh(row[j] / s.softcap) * s.softcap;
  if (!s.slopes.empty())
    for (int64_t j = lo; j <= p; ++j) row[j] += -s.slopes[h] * static_cast<float>(p - j);
}

// out = Σ_{j in [lo, p]} w_j V_j, each element one accumulator taking the keys in order by fused
// multiply-adds, held in registers across the keys (32 elements at a time, then 8, then one).
inline void weighted_values(const float* w, const float* V, int64_t hs, int64_t lo, int64_t p, float* out) {
  int64_t e = 0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; e + 32 <= hs; e += 32) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t j = lo; j <= p; ++j) {
      const __m256 wj = _mm256_broadcast_ss(w + j);
      const float* v = V + j * hs + e;
      a0 = _mm256_fmadd_ps(wj, _mm256_loadu_ps(v), a0);
      a1 = _mm256_fmadd_ps(wj, _mm256_loadu_ps(v + 8), a1);
      a2 = _mm256_fmadd_ps(wj, _mm256_loadu_ps(v + 16), a2);
      a3 = _mm256_fmadd_ps(wj, _mm256_loadu_ps(v + 24), a3);
    }
    _mm256_storeu_ps(out + e, a0);
    _mm256_storeu_ps(out + e + 8, a1);
    _mm256_storeu_ps(out + e + 16, a2);
    _mm256_storeu_ps(out + e + 24, a3);
  }
  for (; e + 8 <= hs; e += 8) {
    __m256 a = _mm256_setzero_ps();
    for (int64_t j = lo; j <= p; ++j) a = _mm256_fmadd_ps(_mm256_broadcast_ss(w + j), _mm256_loadu_ps(V + j * hs + e), a);
    _mm256_storeu_ps(out + e, a);
  }
#endif
  for (; e < hs; ++e) {
    float a = 0.0f;
    for (int64_t j = lo; j <= p; ++j) a = std::fma(w[j], V[j * hs + e], a);
    out[e] = a;
  }
}

// One query (decoding) of head h at position p over keys [0, P) of its kv head: the products as loops
// rather than sgemm calls, whose fixed cost is most of a product this small (a head of 32 over 64 keys),
// and the same arithmetic whichever batch the query is in. Scores by the dot-product blocks of linear
// layers, scaled, shaped and masked as a window's; the kernels' softmax; then out = Σ_j w_j V_j in key order.
void one_query(const Step& s, int64_t h, const float* q, const float* K, const float* V, int64_t hs, int64_t p, int64_t P,
               float* scores, float* weights, float* out) {
  const float* xs[1] = {q};
  int64_t j = 0;
  for (; j + 4 <= P; j += 4) {
    const float* ks[4] = {K + j * hs, K + (j + 1) * hs, K + (j + 2) * hs, K + (j + 3) * hs};
    dots<1, 4>(ks, xs, hs, scores + j);
  }
  for (; j < P; ++j) {
    const float* ks[1] = {K + j * hs};
    dots<1, 1>(ks, xs, hs, scores + j);
  }
  for (j = 0; j < P; ++j) scores[j] *= s.f0;
  const int64_t lo = s.window > 0 && p - s.window + 1 > 0 ? p - s.window + 1 : 0;
  shape_scores(s, h, p, lo, scores, P);
  softmax(scores, weights, 1, P, false);
  weighted_values(weights, V, hs, lo, p, out);
}

// The new positions' keys and values into the cache, then every query head over the cache: per sequence
// and head, the scores of its queries (one, decoding; a window of them, when the context slides or there
// is no cache) as one product, their softmax (the kernels', over every key, the masked ones at -inf), and
// the weighted values as another product.
void attention(const Run& run, const Step& s) {
  Decoder* d = run.d;
  Cache& c = d->caches[s.cache];
  const int64_t hs = s.headSize, KV = s.kvHeads, T = run.T, B = run.B, past = run.past, maxT = d->maxT;
  const Rows k = {run.base(s.in[1]) + s.offset[1], run.width(s.in[1])};
  const Rows v = {run.base(s.in[2]) + s.offset[2], run.width(s.in[2])};
  // The cache is [B, KV, maxT, hs]: each kv head's keys one after another.
  auto cached = [&](std::vector<float>& store, int64_t b, int64_t g) { return store.data() + ((b * KV + g) * maxT) * hs; };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t g = 0; g < KV; ++g) {
        std::memcpy(cached(c.k, b, g) + (past + t) * hs, k.p + (b * T + t) * k.stride + g * hs, sizeof(float) * hs);
        std::memcpy(cached(c.v, b, g) + (past + t) * hs, v.p + (b * T + t) * v.stride + g * hs, sizeof(float) * hs);
      }
  const int64_t queries = s.last ? 1 : T;  // per sequence: the last position's, or every new one's
  const int64_t first = T - queries;       // the first query's row among the sequence's new positions
  const int64_t group = s.heads / KV;
  const Rows q = run.in(s, s.in[0], s.offset[0]);
  const Rows o = run.out(s);
  const int64_t P = past + T;  // keys the last query sees
  const int64_t tasks = B * s.heads;
  const int64_t parts = std::min(parts_for(tasks * queries * P * hs, 1 << 15), d->parts);
  par(tasks, parts, [&](int64_t i0, int64_t i1, int64_t part) {
    float* scores = d->scratch.data() + part * d->scratchPerPart;
    float* weights = scores + queries * P;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / s.heads, h = i % s.heads, g = h / group;
      const float* qh = q.p + b * queries * q.stride + h * hs;
      float* oh = o.p + b * queries * o.stride + h * hs;
      if (queries == 1) {
        one_query(s, h, qh, cached(c.k, b, g), cached(c.v, b, g), hs, past + first, P, scores, weights, oh);
        continue;
      }
      // scores [queries, P] = scale · q_h K_gᵀ; query row r sits at position past + first + r.
      sgemm(false, true, queries, P, hs, s.f0, qh, q.stride, cached(c.k, b, g), hs, 0.0f, scores, P);
      for (int64_t r = 0; r < queries; ++r) {
        const int64_t p = past + first + r;
        const int64_t lo = s.window > 0 && p - s.window + 1 > 0 ? p - s.window + 1 : 0;
        shape_scores(s, h, p, lo, scores + r * P, P);
      }
      softmax(scores, weights, queries, P, false);
      // out_h [queries, hs] = weights [queries, P] · V_g [P, hs]
      sgemm(false, false, queries, hs, P, 1.0f, weights, P, cached(c.v, b, g), hs, 0.0f, oh, o.stride);
    }
  });
}

void experts(const Run& run, const Step& s) {
  Decoder* d = run.d;
  const int64_t M = run.rows(s), C = run.width(s.out), E = static_cast<int64_t>(s.experts.size()), H = s.hidden;
  const Rows x = run.in(s, s.in[0]), sc = run.in(s, s.in[1]), y = run.out(s);
  float* probs = d->scratch.data();
  float* weights = probs + E;
  int32_t* chosen = reinterpret_cast<int32_t*>(weights + E);
  float* h = probs + 3 * E;
  float* g = h + H;
  float* o = g + H;
  for (int64_t m = 0; m < M; ++m) {
    route(sc.p + m * sc.stride, E, s.topK, probs, chosen, weights);
    float* yr = y.p + m * y.stride;
    for (int64_t e = 0; e < C; ++e) yr[e] = 0.0f;
    // In expert order, as the reference adds their terms.
    for (int64_t e = 0; e < E; ++e) {
      int32_t j = 0;
      while (j < s.topK && chosen[j] != e) ++j;
      if (j == s.topK) continue;
      const Expert& ex = s.experts[e];
      const Rows xr = {x.p + m * x.stride, C};
      dot_rows(xr, 1, ex.fc, ex.fcBias, H, C, {h, H});
      if (ex.gate != nullptr) {
        dot_rows(xr, 1, ex.gate, ex.gateBias, H, C, {g, H});
        for (int64_t i = 0; i < H; ++i) h[i] = act_of(s.fn, g[i]) * h[i];
      } else {
        for (int64_t i = 0; i < H; ++i) h[i] = act_of(s.fn, h[i]);
      }
      dot_rows({h, H}, 1, ex.proj, ex.projBias, C, H, {o, C});
      const float w = weights[j];
      for (int64_t i = 0; i < C; ++i) yr[i] += o[i] * w;
    }
  }
}

// Rows [m0, m0 + n) of a step, found by row from each operand's Rows.
template <typename F>
void rowwise(const Run& run, const Step& s, const F& f) {
  const int64_t M = run.rows(s);
  bool contiguous = true;
  for (int j = 0; j < 3; ++j)
    if (s.in[j] >= 0 && !run.contiguous(s, s.in[j])) contiguous = false;
  // Contiguous rows are one run of M * width values (elementwise steps treat them as one).
  if (contiguous) f(0, M);
  else
    for (int64_t m = 0; m < M; ++m) f(m, 1);
}

inline float* row(const Rows& r, int64_t m) { return r.p + m * r.stride; }

void run_step(const Run& run, const Step& s) {
  const int64_t M = run.rows(s);
  switch (s.kind) {
    case kStepEmbed: {
      const Rows o = run.out(s);
      const int64_t w = run.width(s.out);
      for (int64_t m = 0; m < M; ++m) {
        const int64_t token = run.tokens[s.last ? m * run.T + run.T - 1 : m];
        const float* src = s.t0 + token * w;
        float* dst = row(o, m);
        if (s.f0 == 1.0f) std::memcpy(dst, src, sizeof(float) * w);
        else
          for (int64_t e = 0; e < w; ++e) dst[e] = src[e] * s.f0;
      }
      break;
    }
    case kStepPositions: {
      const Rows x = run.in(s, s.in[0]), o = run.out(s);
      const int64_t w = run.width(s.out);
      for (int64_t m = 0; m < M; ++m) {
        const float* a = row(x, m);
        const float* p = s.t0 + run.position(s, m) * w;
        float* dst = row(o, m);
#pragma omp simd
        for (int64_t e = 0; e < w; ++e) dst[e] = a[e] + p[e];
      }
      break;
    }
    case kStepLinear:
      linear_rows(run.in(s, s.in[0]), M, s.weight, s.panels, s.bias, s.N, s.K, run.out(s), s.last || run.T == 1);
      break;
    case kStepLayerNorm:
    case kStepRmsNorm: {
      const Rows x = run.in(s, s.in[0]), o = run.out(s);
      const int64_t w = run.width(s.out), groups = w / s.dim;
      // The kernels' own rows (kernels.cc), their mean and rstd left in the decoder's stats.
      float* stats = run.d->stats.data();
      rowwise(run, s, [&](int64_t m0, int64_t n) {
        const int64_t rows = n * groups;
        if (s.kind == kStepLayerNorm) layer_norm(row(x, m0), s.t0, s.t1, row(o, m0), stats, stats + rows, rows, s.dim, s.f0);
        else rms_norm(row(x, m0), s.t0, row(o, m0), stats, rows, s.dim, s.f0);
      });
      break;
    }
    case kStepActivation: {
      // The kernels' own (their parts are too large for a window of positions: these are cut finer).
      const Rows x = run.in(s, s.in[0]), o = run.out(s);
      const int64_t w = run.width(s.out);
      rowwise(run, s, [&](int64_t m0, int64_t n) {
        par(n * w, parts_for(n * w, kActivationsPerPart), [&](int64_t e0, int64_t e1, int64_t) { mlp_activation(row(x, m0) + e0, row(o, m0) + e0, e1 - e0, s.fn); });
      });
      break;
    }
    case kStepGated: {
      const Rows g = run.in(s, s.in[0]), u = run.in(s, s.in[1]), o = run.out(s);
      const int64_t w = run.width(s.out);
      rowwise(run, s, [&](int64_t m0, int64_t n) {
        par(n * w, parts_for(n * w, kActivationsPerPart), [&](int64_t e0, int64_t e1, int64_t) { gated_activation(row(g, m0) + e0, row(u, m0) + e0, row(o, m0) + e0, e1 - e0, s.fn); });
      });
      break;
    }
    case kStepAdd:
    case kStepScale:
    case kStepScaleBy:
    case kStepSoftcap: {
      const Rows a = run.in(s, s.in[0]), o = run.out(s);
      const Rows b = s.kind == kStepAdd ? run.in(s, s.in[1]) : a;
      const int64_t w = run.width(s.out);
      const float by = s.kind == kStepScaleBy ? s.t0[0] : s.f0;
      rowwise(run, s, [&](int64_t m0, int64_t n) {
        const float* __restrict x = row(a, m0);
        const float* __restrict y = row(b, m0);
        float* __restrict z = row(o, m0);
        const int64_t count = n * w;
        switch (s.kind) {
          case kStepAdd:
#pragma omp simd
            for (int64_t e = 0; e < count; ++e) z[e] = x[e] + y[e];
            break;
          case kStepSoftcap:
            for (int64_t e = 0; e < count; ++e) z[e] = std::tanh(x[e] / by) * by;
            break;
          default:
#pragma omp simd
            for (int64_t e = 0; e < count; ++e) z[e] = x[e] * by;
        }
      });
      break;
    }
    case kStepRope: {
      const Rows x = run.in(s, s.in[0]), o = run.out(s);
      const int64_t hs = s.headSize, half = s.half;
      for (int64_t m = 0; m < M; ++m) {
        const float* c = s.t0 + run.position(s, m) * half;
        const float* sn = s.t1 + run.position(s, m) * half;
        for (int64_t h = 0; h < s.heads; ++h) {
          const float* xr = row(x, m) + h * hs;
          float* yr = row(o, m) + h * hs;
          for (int64_t i = 0; i < half; ++i) {
            const float x1 = xr[i], x2 = xr[half + i];
            yr[i] = x1 * c[i] - x2 * sn[i];
            yr[half + i] = x2 * c[i] + x1 * sn[i];
          }
          for (int64_t i = 2 * half; i < hs; ++i) yr[i] = xr[i];
        }
      }
      break;
    }
    case kStepAttention:
      attention(run, s);
      break;
    case kStepExperts:
      experts(run, s);
      break;
    default:
      break;
  }
}

using Clock = std::chrono::steady_clock;
inline double since(Clock::time_point t0) { return std::chrono::duration<double, std::nano>(Clock::now() - t0).count(); }

}  // namespace

bool decoder_step(Decoder* d, const int32_t* tokens, int32_t B, int32_t T, int32_t past, double temperature, int32_t topK,
                  double topP, const double* uniforms, int32_t* out, float* logits, char* error, size_t errorSize) {
  if (B < 1 || B > d->maxB || T < 1 || past < 0 || static_cast<int64_t>(past) + T > d->maxT) {
    say(error, errorSize, "a step of %d sequences of %d positions after %d, for a decoder of %d sequences of %d", B, T, past, d->maxB, d->maxT);
    return false;
  }
  for (int64_t i = 0; i < static_cast<int64_t>(B) * T; ++i)
    if (tokens[i] < 0 || tokens[i] >= d->vocab) {
      say(error, errorSize, "token %d is outside the vocabulary of %d", tokens[i], d->vocab);
      return false;
    }
  const Clock::time_point began = Clock::now();
  const Run run{d, tokens, B, T, past};
  for (const Step& s : d->steps) {
    if (d->profile) {
      const Clock::time_point t0 = Clock::now();
      run_step(run, s);
      d->times[s.kind] += since(t0);
    } else {
      run_step(run, s);
    }
  }
  if (take_out_of_memory()) {
    say(error, errorSize, "out of memory");
    return false;
  }
  const Clock::time_point t0 = Clock::now();
  const Value& lv = d->values[d->logits];
  const float* base = d->buffers[lv.buffer].data();
  for (int64_t b = 0; b < B; ++b) {
    const float* row = lv.last ? base + b * lv.width : base + (b * T + T - 1) * lv.width;
    if (logits != nullptr) std::memcpy(logits + b * d->vocab, row, sizeof(float) * d->vocab);
    out[b] = pick_token(row, d->vocab, temperature, topK, topP, uniforms[b]);
  }
  if (d->profile) {
    d->times[kProfileSampling] += since(t0);
    d->times[kProfileTotal] += since(began);
    d->times[kProfileCalls] += 1;
  }
  return true;
}

}  // namespace bk

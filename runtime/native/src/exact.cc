// Kernels that reproduce, bit for bit, what a sequence of tfjs ops computes: the optimizers' updates
// (runtime/train/optimizer.ts writes them as tf ops for the other backends) and the random numbers behind
// tf.dropout (seedrandom's Alea generator, as tf.randomUniform draws them). Each float32 operation of
// the tf version is one rounded operation here, in the same order: this file is compiled with
// -ffp-contract=off, since a fused multiply-add rounds once where the ops round twice.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels.h"
#include "parallel.h"

namespace bk {
namespace {

// ToUint32 of a non-negative double, as JavaScript's `x >>> 0`.
inline uint32_t to_uint32(double x) { return static_cast<uint32_t>(static_cast<uint64_t>(x)); }

// seedrandom's Mash hash; its state n carries over between calls, as in the JavaScript.
struct Mash {
  double n = 4022871197.0;  // 0xefc8249d
  double operator()(const char* data) {
    for (const char* c = data; *c != '\0'; ++c) {
      n += static_cast<unsigned char>(*c);
      double h = 0.02519603282416938 * n;
      n = to_uint32(h);
      h -= n;
      h *= n;
      n = to_uint32(h);
      h -= n;
      n += h * 4294967296.0;
    }
    return to_uint32(n) * 2.3283064365386963e-10;
  }
};

}  // namespace

// seedrandom's Alea, seeded with the decimal string of `seed` (an integer, as dropout() draws it) as
// tf.randomUniform seeds it. Its state is three multiples of 2^-32 and a carry below 2091639, so that
// t = 2091639 * s0 + c * 2^-32 is an exact double (its numerator stays under 2^53): the generator runs
// in integers, with the same outputs.
void alea_init(double seed, AleaState* st) {
  char text[64];
  std::snprintf(text, sizeof text, "%.0f", seed);
  Mash mash;
  double s0 = mash(" "), s1 = mash(" "), s2 = mash(" ");
  s0 -= mash(text);
  if (s0 < 0) s0 += 1;
  s1 -= mash(text);
  if (s1 < 0) s1 += 1;
  s2 -= mash(text);
  if (s2 < 0) s2 += 1;
  st->s0 = static_cast<uint64_t>(s0 * 4294967296.0);
  st->s1 = static_cast<uint64_t>(s1 * 4294967296.0);
  st->s2 = static_cast<uint64_t>(s2 * 4294967296.0);
  st->c = 1;
}

// The next n numbers, each as tf.randomUniform stores it: the double in [0, 1), rounded to float32.
void alea_fill(AleaState* st, float* out, int64_t n) {
  uint64_t s0 = st->s0, s1 = st->s1, s2 = st->s2, c = st->c;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t t = 2091639ull * s0 + c;
    c = t >> 32;
    s0 = s1;
    s1 = s2;
    s2 = t & 0xffffffffull;
    out[i] = static_cast<float>(static_cast<double>(s2) * 2.3283064365386963e-10);
  }
  st->s0 = s0;
  st->s1 = s1;
  st->s2 = s2;
  st->c = c;
}

// tf.dropout's keep flags: floor(u + keep) with u from alea and the sum in float32 (1 = kept).
void dropout_mask(AleaState* st, uint8_t* mask, int64_t n, float keep) {
  constexpr int64_t kChunk = 4096;
  float u[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = n - i0 < kChunk ? n - i0 : kChunk;
    alea_fill(st, u, m);
    for (int64_t i = 0; i < m; ++i) mask[i0 + i] = std::floor(u[i] + keep) != 0.0f ? 1 : 0;
  }
}

// The dropout flags of every head's attention weights [B, T, T] (head h's numbers from seeds[h], in that
// tensor's order), stored as mask [B, H, T, T]. Heads in parallel: each has its own generator.
void head_dropout_masks(const double* seeds, uint8_t* mask, int64_t B, int64_t H, int64_t T, float keep) {
  const int64_t tt = T * T;
  par(H, parts_for(H * B * tt, kElementsPerPart) > 1 ? H : 1, [&](int64_t h0, int64_t h1, int64_t) {
    uint8_t* row = static_cast<uint8_t*>(checked_malloc(static_cast<size_t>(tt)));
    if (row == nullptr) return;
    for (int64_t h = h0; h < h1; ++h) {
      AleaState st;
      alea_init(seeds[h], &st);
      for (int64_t b = 0; b < B; ++b) {
        dropout_mask(&st, row, tt, keep);
        std::memcpy(mask + (b * H + h) * tt, row, static_cast<size_t>(tt));
      }
    }
    std::free(row);
  });
}

namespace {

// y = x * (mask ? scale : 0) over n elements.
void masked_scale(const float* x, const uint8_t* mask, float* y, int64_t n, float scale) {
  const float* __restrict xs = x;
  const uint8_t* __restrict ms = mask;
  float* __restrict o = y;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = xs[i] * (ms[i] ? scale : 0.0f);
}

}  // namespace

// x * (floor(u + keep) / keep), as tf.dropout computes it, with the flags saved for the gradient.
void dropout(const float* x, float* y, uint8_t* mask, int64_t n, double seed, float keep) {
  AleaState st;
  alea_init(seed, &st);
  dropout_mask(&st, mask, n, keep);
  const float scale = 1.0f / keep;
  par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { masked_scale(x + b, mask + b, y + b, e - b, scale); });
}

void dropout_mask_from_seed(uint8_t* mask, int64_t n, double seed, float keep) {
  AleaState st;
  alea_init(seed, &st);
  dropout_mask(&st, mask, n, keep);
}

// dy * (floor(u + keep) / keep): the gradient of dropout, as tf's Multiply gradient computes it.
void dropout_grad(const float* dy, const uint8_t* mask, float* dx, int64_t n, float keep) {
  const float scale = 1.0f / keep;
  par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { masked_scale(dy + b, mask + b, dx + b, e - b, scale); });
}

namespace {

// Elements [i0, i1) of one parameter.
void optimizer_range(const OptimConfig c, float* __restrict p, const float* __restrict g, float* __restrict m,
                     float* __restrict v, int64_t i0, int64_t i1) {
  if (c.type == 0) {
    for (int64_t i = i0; i < i1; ++i) {
      const float gi = c.scaled ? g[i] * c.gradScale : g[i];
      p[i] = p[i] - gi * c.lr;
    }
    return;
  }
  for (int64_t i = i0; i < i1; ++i) {
    const float gi = c.scaled ? g[i] * c.gradScale : g[i];
    const float mi = m[i] * c.b1 + gi * c.oneMinusB1;
    const float vi = v[i] * c.b2 + (gi * gi) * c.oneMinusB2;
    const float denom = std::sqrt(vi) / c.sqrtBc2 + c.eps;
    const float update = (mi / denom) * c.stepSize;
    const float decayed = c.decoupled ? p[i] * c.decay : p[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = decayed - update;
  }
}

}  // namespace

// One optimizer step over many parameters, element by element in the order of optimizer.ts's tf ops:
//   g = g * gradScale                                    (when clipping scaled the gradients)
//   sgd:   p = p - g * lr
//   adam:  m = m * b1 + g * (1 - b1);  v = v * b2 + g^2 * (1 - b2)
//          p = [p * (1 - lr * wd)] - (m / (sqrt(v) / sqrt(bc2) + eps)) * (lr / bc1)
// Every constant is the float32 the tf op would have made of it (see OptimConfig).
void optimizer_step(const OptimConfig& cfg, int64_t count, float* const* p, const float* const* g, float* const* m,
                    float* const* v, const int64_t* sizes) {
  int64_t total = 0;
  int64_t* starts = static_cast<int64_t*>(checked_malloc(sizeof(int64_t) * (count + 1)));
  if (starts == nullptr) return;
  for (int64_t i = 0; i < count; ++i) {
    starts[i] = total;
    total += sizes[i];
  }
  starts[count] = total;
  par(total, parts_for(total, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) {
    // The parameters overlapping [b, e), each over its own slice.
    for (int64_t k = 0; k < count && starts[k] < e; ++k) {
      if (starts[k + 1] <= b) continue;
      const int64_t i0 = (b > starts[k] ? b : starts[k]) - starts[k];
      const int64_t i1 = (e < starts[k + 1] ? e : starts[k + 1]) - starts[k];
      optimizer_range(cfg, p[k], g[k], cfg.type == 0 ? nullptr : m[k], cfg.type == 0 ? nullptr : v[k], i0, i1);
    }
  });
  std::free(starts);
}

// For each array, the sum of its squares: float32 squares summed in double, then rounded to float32, as
// tf.sum(tf.square(g)) gives on this backend.
namespace {

float sum_of_squares(const float* __restrict x, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const float sq = x[i] * x[i];
    s += sq;
  }
  return static_cast<float>(s);
}

}  // namespace

void sum_squares(int64_t count, const float* const* x, const int64_t* sizes, float* out) {
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) total += sizes[i];
  // One part per array (a part's sum never depends on which thread ran it).
  par(count, parts_for(total, kElementsPerPart) > 1 ? count : 1, [&](int64_t k0, int64_t k1, int64_t) {
    for (int64_t k = k0; k < k1; ++k) out[k] = sum_of_squares(x[k], sizes[k]);
  });
}

}  // namespace bk

// Compute kernels of the native backend. Built for x86-64-v3 (AVX2 + FMA) on x86-64 CPUs that have it
// (addon.cc checks the CPU before any of this runs), else for the baseline. The loops are written so
// that GCC vectorizes them (no calls, no branches in the bodies; `omp simd` where a reduction needs
// permission to reorder). Matrix products go to sgemm (gemm.h: OpenBLAS, Accelerate or the built-in
// GEMM, whichever the build chose), single-threaded: the kernels here split their work over the addon's
// own thread pool (threads.cc) when it is big enough to pay for the hand-off, matrix products by blocks
// of rows or columns, attention by (batch, head), element-wise loops by ranges. Every split is into
// fixed parts, so results do not depend on timing.
//
// Scratch memory comes from checked_malloc: where it runs out, the kernel skips the work and the binding
// throws (addon.cc).
//
// No C++ standard library templates are used in this file, so that no inline function compiled for
// AVX2 here can be picked by the linker for the baseline-compiled addon.cc (see kernels.h).
#include "kernels.h"
#include "gemm.h"
#include "parallel.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bk {
namespace {

inline float as_float(int32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// exp for float32 that vectorizes: Cephes' polynomial after x = n*ln2 + r, within 1-2 ulp. 2^n is applied
// as two factors so that results down to the subnormal range stay right; below -104 the answer is 0.
inline float fexp(float x) {
  const float hi = 88.72283935546875f;
  const float lo = -103.972084f;
  float xc = x < hi ? x : hi;
  xc = xc > lo ? xc : lo;
  const float fx = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - fx * 0.693359375f;
  r = r + fx * 2.12194440e-4f;
  const float z = r * r;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * z + r + 1.0f;
  const int32_t n = static_cast<int32_t>(fx);
  const int32_t n1 = n >> 1;
  const int32_t n2 = n - n1;
  float res = y * as_float((n1 + 127) << 23) * as_float((n2 + 127) << 23);
  res = x > hi ? HUGE_VALF : res;
  res = x < lo ? 0.0f : res;
  return x != x ? x : res;  // NaN stays NaN
}

// tanh for float32 that vectorizes, after Cody and Waite: above ln(3)/2, 1 - 2 / (e^2|x| + 1) with fexp
// (no cancellation there, the result being over 1/2); below, |x| + |x| R(x^2) with their float rational
// fit R(g) = g (p1 g + p0) / (g + q0); the sign put back. Within 1 ulp of the correctly rounded tanh over
// every float (0.4% of them 1 ulp off), at a tenth of the cost of libm's double tanh.
inline float ftanh(float x) {
  const float a = __builtin_fabsf(x);
  const float big = 1.0f - 2.0f / (fexp(2.0f * a) + 1.0f);
  const float g = a * a;
  const float small = a + a * ((-0.3831010665e-2f * g - 0.8237728127f) * g) / (g + 2.471319654f);
  const float r = a > 0.54930614f ? big : small;
  return x != x ? x : __builtin_copysignf(r, x);
}

// erf as the tfjs cpu backend computes it (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), so that
// results match that backend's.
inline float ferf(float x) {
  const float v = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * v);
  const float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  const float r = 1.0f - poly * fexp(-v * v);
  const float s = x > 0.0f ? r : -r;
  return x == 0.0f ? x : s;
}

inline float fgelu(float x) { return x * 0.5f * (1.0f + ferf(x * 0.70710678118654752f)); }

template <typename F>
inline void map1(const float* __restrict x, float* __restrict out, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

// In place (x == out) must work too, so no __restrict here.
template <typename F>
inline void map1_inplace(float* x, int64_t n, F f) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = f(x[i]);
}

// ---- broadcasting binary ops ----

struct BroadcastPlan {
  int n;  // collapsed rank
  int64_t dim[kMaxRank];
  int64_t sa[kMaxRank];  // element strides of a and b per collapsed dim (0 where broadcast)
  int64_t sb[kMaxRank];
};

// Drops size-1 output dims and merges neighbours that broadcast the same way, so that [B,T,C] + [C]
// becomes a [B*T, C] loop and equal shapes become one flat loop.
void plan_broadcast(int32_t rank, const int32_t* outShape, const int32_t* aShape, const int32_t* bShape,
                    BroadcastPlan* p) {
  int n = 0;
  int prevClass = -1;
  int64_t strideA = 1, strideB = 1;
  int64_t dim[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  for (int d = rank - 1; d >= 0; --d) {
    const int64_t o = outShape[d];
    if (o == 1) continue;
    const bool aB = aShape[d] == 1;
    const bool bB = bShape[d] == 1;
    const int cls = (aB ? 1 : 0) | (bB ? 2 : 0);
    if (cls == prevClass) {
      dim[n - 1] *= o;
    } else {
      dim[n] = o;
      sa[n] = aB ? 0 : strideA;
      sb[n] = bB ? 0 : strideB;
      ++n;
      prevClass = cls;
    }
    if (!aB) strideA *= o;
    if (!bB) strideB *= o;
  }
  p->n = n;
  for (int i = 0; i < n; ++i) {  // reverse into outer-to-inner order
    p->dim[i] = dim[n - 1 - i];
    p->sa[i] = sa[n - 1 - i];
    p->sb[i] = sb[n - 1 - i];
  }
}

template <typename F>
void run_binary(const BroadcastPlan& p, const float* __restrict a, const float* __restrict b, float* __restrict out,
                F f) {
  if (p.n == 0) {
    out[0] = f(a[0], b[0]);
    return;
  }
  const int last = p.n - 1;
  const int64_t L = p.dim[last];
  const bool va = p.sa[last] != 0;
  const bool vb = p.sb[last] != 0;
  int64_t outer = 1;
  for (int i = 0; i < last; ++i) outer *= p.dim[i];
  int64_t idx[kMaxRank] = {0};
  int64_t offA = 0, offB = 0;
  for (int64_t o = 0; o < outer; ++o) {
    float* __restrict dst = out + o * L;
    const float* __restrict pa = a + offA;
    const float* __restrict pb = b + offB;
    if (va && vb) {
#pragma omp simd
      for (int64_t i = 0; i < L; ++i) dst[i] = f(pa[i], pb[i]);
    } else if (!va && !vb) {
      // Both broadcast along this run: an output shape larger than both inputs (a broadcastTo).
      const float v = f(pa[0], pb[0]);
      for (int64_t i = 0; i < L; ++i) dst[i] = v;
    } else if (va) {
      const float s = pb[0];
#pragma omp simd
      for (int64_t i = 0; i < L; ++i) dst[i] = f(pa[i], s);
    } else {
      const float s = pa[0];
#pragma omp simd
      for (int64_t i = 0; i < L; ++i) dst[i] = f(s, pb[i]);
    }
    for (int d = last - 1; d >= 0; --d) {  // odometer over the outer dims
      offA += p.sa[d];
      offB += p.sb[d];
      if (++idx[d] < p.dim[d]) break;
      offA -= p.sa[d] * p.dim[d];
      offB -= p.sb[d] * p.dim[d];
      idx[d] = 0;
    }
  }
}

// Row-major strides of a shape.
void strides_of(int32_t rank, const int32_t* shape, int64_t* strides) {
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= shape[d];
  }
}

}  // namespace

namespace {

void unary_serial(int32_t op, const float* x, float* out, int64_t n, float alpha) {
  switch (op) {
    case kExp: map1(x, out, n, [](float v) { return fexp(v); }); break;
    case kLog: for (int64_t i = 0; i < n; ++i) out[i] = std::log(x[i]); break;
    case kNeg: map1(x, out, n, [](float v) { return -v; }); break;
    case kSqrt: map1(x, out, n, [](float v) { return std::sqrt(v); }); break;
    case kRsqrt: map1(x, out, n, [](float v) { return 1.0f / std::sqrt(v); }); break;
    case kSquare: map1(x, out, n, [](float v) { return v * v; }); break;
    case kRelu: map1(x, out, n, [](float v) { return v < 0.0f ? 0.0f : v; }); break;
    case kRelu6: map1(x, out, n, [](float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }); break;
    case kErf: map1(x, out, n, [](float v) { return ferf(v); }); break;
    case kAbs: map1(x, out, n, [](float v) { return std::fabs(v); }); break;
    case kSigmoid: map1(x, out, n, [](float v) { return 1.0f / (1.0f + fexp(-v)); }); break;
    case kTanh: for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(x[i]); break;
    case kReciprocal: map1(x, out, n, [](float v) { return 1.0f / v; }); break;
    case kElu: map1(x, out, n, [](float v) { return v >= 0.0f ? v : fexp(v) - 1.0f; }); break;
    case kLeakyRelu: map1(x, out, n, [alpha](float v) { return v < 0.0f ? alpha * v : v; }); break;
    case kLog1p: for (int64_t i = 0; i < n; ++i) out[i] = std::log1p(x[i]); break;
    case kExpm1: for (int64_t i = 0; i < n; ++i) out[i] = std::expm1(x[i]); break;
    case kSoftplus: {
      // The tfjs cpu backend's thresholds, so that both give the same values.
      const double threshold = std::log(1.1920928955078125e-7) + 2.0;
      for (int64_t i = 0; i < n; ++i) {
        const double v = x[i];
        const double e = std::exp(v);
        out[i] = static_cast<float>(v < threshold ? e : (v > -threshold ? v : std::log(1.0 + e)));
      }
      break;
    }
    case kStep: map1(x, out, n, [alpha](float v) { return v != v ? v : (v > 0.0f ? 1.0f : alpha); }); break;
    case kSign: map1(x, out, n, [](float v) { return v < 0.0f ? -1.0f : (v > 0.0f ? 1.0f : 0.0f); }); break;
    case kFloor: map1(x, out, n, [](float v) { return __builtin_floorf(v); }); break;
    case kCeil: map1(x, out, n, [](float v) { return __builtin_ceilf(v); }); break;
    case kSin: for (int64_t i = 0; i < n; ++i) out[i] = std::sin(x[i]); break;
    case kCos: for (int64_t i = 0; i < n; ++i) out[i] = std::cos(x[i]); break;
    case kGelu: map1(x, out, n, [](float v) { return fgelu(v); }); break;
    default: break;
  }
}

}  // namespace

void unary(int32_t op, const float* x, float* out, int64_t n, float alpha) {
  par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { unary_serial(op, x + b, out + b, e - b, alpha); });
}

void binary(int32_t op, const float* a, const float* b, float* out, int32_t rank, const int32_t* outShape,
            const int32_t* aShape, const int32_t* bShape) {
  BroadcastPlan p;
  plan_broadcast(rank, outShape, aShape, bShape, &p);
  switch (op) {
    case kAdd: run_binary(p, a, b, out, [](float x, float y) { return x + y; }); break;
    case kSub: run_binary(p, a, b, out, [](float x, float y) { return x - y; }); break;
    case kMul: run_binary(p, a, b, out, [](float x, float y) { return x * y; }); break;
    case kDiv: run_binary(p, a, b, out, [](float x, float y) { return x / y; }); break;
    // NaN in either operand gives NaN, as Math.max / Math.min do.
    case kMaximum: run_binary(p, a, b, out, [](float x, float y) { return (x > y || x != x) ? x : y; }); break;
    case kMinimum: run_binary(p, a, b, out, [](float x, float y) { return (x < y || x != x) ? x : y; }); break;
    case kSquaredDifference:
      run_binary(p, a, b, out, [](float x, float y) { return (x - y) * (x - y); });
      break;
    case kPow: run_binary(p, a, b, out, [](float x, float y) { return std::pow(x, y); }); break;
    default: break;
  }
}

void reduce(int32_t op, const float* x, float* out, int64_t outer, int64_t mid, int64_t inner) {
  if (mid == 0) {
    // Over an empty axis, what the cpu backend gives: sum and mean 0, product 1, max and min NaN.
    const float v = op == kProd ? 1.0f : (op == kMax || op == kMin) ? NAN : 0.0f;
    for (int64_t i = 0; i < outer * inner; ++i) out[i] = v;
    return;
  }
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o) {
      const float* __restrict row = x + o * mid;
      switch (op) {
        case kSum:
        case kMean: {
          // Sums accumulate in double, as the cpu backend's JavaScript numbers do.
          double s = 0.0;
#pragma omp simd reduction(+ : s)
          for (int64_t i = 0; i < mid; ++i) s += row[i];
          out[o] = static_cast<float>(op == kMean ? s / static_cast<double>(mid) : s);
          break;
        }
        // A NaN anywhere makes the max / min NaN, as in the cpu backend.
        case kMax: {
          float m = -HUGE_VALF;
          int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
          for (int64_t i = 0; i < mid; ++i) {
            m = row[i] > m ? row[i] : m;
            nan |= row[i] != row[i];
          }
          out[o] = nan ? NAN : m;
          break;
        }
        case kMin: {
          float m = HUGE_VALF;
          int nan = 0;
#pragma omp simd reduction(min : m) reduction(| : nan)
          for (int64_t i = 0; i < mid; ++i) {
            m = row[i] < m ? row[i] : m;
            nan |= row[i] != row[i];
          }
          out[o] = nan ? NAN : m;
          break;
        }
        case kProd: {
          double s = 1.0;
          for (int64_t i = 0; i < mid; ++i) s *= row[i];
          out[o] = static_cast<float>(s);
          break;
        }
        default: break;
      }
    }
    return;
  }
  // Reducing a middle axis: accumulate whole rows of `inner`, which vectorizes across the row.
  double* acc = static_cast<double*>(checked_malloc(sizeof(double) * inner));
  if (acc == nullptr) return;
  for (int64_t o = 0; o < outer; ++o) {
    const float* __restrict base = x + o * mid * inner;
    float* __restrict dst = out + o * inner;
    switch (op) {
      case kSum:
      case kMean:
      case kProd: {
        const bool prod = op == kProd;
        for (int64_t i = 0; i < inner; ++i) acc[i] = prod ? 1.0 : 0.0;
        for (int64_t m = 0; m < mid; ++m) {
          const float* __restrict row = base + m * inner;
          if (prod) {
            for (int64_t i = 0; i < inner; ++i) acc[i] *= row[i];
          } else {
#pragma omp simd
            for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
          }
        }
        if (op == kMean) {
          for (int64_t i = 0; i < inner; ++i) dst[i] = static_cast<float>(acc[i] / static_cast<double>(mid));
        } else {
          for (int64_t i = 0; i < inner; ++i) dst[i] = static_cast<float>(acc[i]);
        }
        break;
      }
      case kMax:
      case kMin: {
        const bool isMax = op == kMax;
        for (int64_t i = 0; i < inner; ++i) dst[i] = isMax ? -HUGE_VALF : HUGE_VALF;
        for (int64_t m = 0; m < mid; ++m) {
          const float* __restrict row = base + m * inner;
          // Once a NaN is in dst it stays: no comparison with it is true.
          if (isMax) {
#pragma omp simd
            for (int64_t i = 0; i < inner; ++i) dst[i] = (row[i] > dst[i] || row[i] != row[i]) ? row[i] : dst[i];
          } else {
#pragma omp simd
            for (int64_t i = 0; i < inner; ++i) dst[i] = (row[i] < dst[i] || row[i] != row[i]) ? row[i] : dst[i];
          }
        }
        break;
      }
      default: break;
    }
  }
  std::free(acc);
}

void arg_reduce(bool isMax, const float* x, int32_t* out, int64_t outer, int64_t mid, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = x + o * mid * inner + i;
      float best = p[0];
      int32_t at = 0;
      for (int64_t m = 1; m < mid; ++m) {
        const float v = p[m * inner];
        if (isMax ? v > best : v < best) {
          best = v;
          at = static_cast<int32_t>(m);
        }
      }
      out[o * inner + i] = at;
    }
  }
}

namespace {

void softmax_rows(const float* x, float* out, int64_t r0, int64_t r1, int64_t cols, bool log) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict in = x + r * cols;
    float* __restrict o = out + r * cols;
    float m = -HUGE_VALF;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < cols; ++j) m = in[j] > m ? in[j] : m;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < cols; ++j) {
      const float e = fexp(in[j] - m);
      o[j] = e;
      s += e;
    }
    if (log) {
      const float lse = m + std::log(s);
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) o[j] = in[j] - lse;
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) o[j] = o[j] / s;
    }
  }
}

void softmax_grad_rows(const float* y, const float* dy, float* dx, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict yr = y + r * cols;
    const float* __restrict gr = dy + r * cols;
    float* __restrict o = dx + r * cols;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; ++j) dot += yr[j] * gr[j];
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) o[j] = yr[j] * (gr[j] - dot);
  }
}

}  // namespace

void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log) {
  par(rows, parts_for(rows * cols, kElementsPerPart),
      [&](int64_t r0, int64_t r1, int64_t) { softmax_rows(x, out, r0, r1, cols, log); });
}

void softmax_grad(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  par(rows, parts_for(rows * cols, kElementsPerPart),
      [&](int64_t r0, int64_t r1, int64_t) { softmax_grad_rows(y, dy, dx, r0, r1, cols); });
}

void activation(int32_t act, float* x, int64_t n, float alpha) {
  switch (act) {
    case 1: map1_inplace(x, n, [](float v) { return v < 0.0f ? 0.0f : v; }); break;
    case 2: map1_inplace(x, n, [](float v) { return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); }); break;
    case 3: map1_inplace(x, n, [](float v) { return 1.0f / (1.0f + fexp(-v)); }); break;
    case 4: map1_inplace(x, n, [alpha](float v) { return v < 0.0f ? alpha * v : v; }); break;
    case 5: map1_inplace(x, n, [](float v) { return v >= 0.0f ? v : fexp(v) - 1.0f; }); break;
    default: break;
  }
}

namespace {

// Products smaller than this (M*N*K) run on one thread: below it the hand-off costs more than it saves.
constexpr int64_t kGemmWorkPerPart = 1 << 18;

// One single-threaded sgemm on C's rows [m0, m1) and columns [n0, n1), with the bias (beta = 1 over
// rows that start from it) and the activation applied to that block.
void gemm_block(const float* a, const float* b, float* c, const float* bias, int64_t M, int64_t N, int64_t K,
                bool transA, bool transB, int64_t lda, int64_t ldb, int64_t ldc, int64_t m0, int64_t m1, int64_t n0,
                int64_t n1, int32_t act, float alpha, bool accumulate) {
  const int64_t rows = m1 - m0, cols = n1 - n0;
  if (rows <= 0 || cols <= 0) return;
  float* cb = c + m0 * ldc + n0;
  float beta = accumulate ? 1.0f : 0.0f;
  if (bias != nullptr && !accumulate) {
    // Start every output row from the bias and let sgemm add the product (beta = 1).
    for (int64_t r = 0; r < rows; ++r) std::memcpy(cb + r * ldc, bias + n0, sizeof(float) * cols);
    beta = 1.0f;
  } else if (!accumulate && K == 0) {
    for (int64_t r = 0; r < rows; ++r) std::memset(cb + r * ldc, 0, sizeof(float) * cols);
  }
  if (K > 0) {
    const float* ab = transA ? a + m0 : a + m0 * lda;
    const float* bb = transB ? b + n0 * ldb : b + n0;
    sgemm(transA, transB, rows, cols, K, 1.0f, ab, lda, bb, ldb, beta, cb, ldc);
  }
  if (act != 0 && !accumulate) {
    for (int64_t r = 0; r < rows; ++r) activation(act, cb + r * ldc, cols, alpha);
  }
}

// One product split over the pool: by blocks of rows when there are enough, else by blocks of columns.
// Block edges fall on multiples of sgemm's register tile (16 for OpenBLAS, 6 rows or 16 columns for the
// built-in AVX2 kernel; at least 16) where the size allows.
void gemm(const float* a, const float* b, float* c, const float* bias, int64_t M, int64_t N, int64_t K, bool transA,
          bool transB, int32_t act, float alpha, bool accumulate) {
  const int64_t lda = transA ? M : K, ldb = transB ? K : N, ldc = N;
  const int64_t work = M * N * (K > 0 ? K : 1);
  int64_t parts = parts_for(work, kGemmWorkPerPart);
  const bool byRows = M >= N || M >= 32 * parts;
  int64_t unit = byRows ? sgemm_tile_rows() : sgemm_tile_cols();
  while (unit < 16) unit *= 2;  // 6 -> 24: blocks of whole tiles, not too many of them
  const int64_t units = ((byRows ? M : N) + unit - 1) / unit;
  if (parts > units) parts = units;
  if (parts <= 1) {
    gemm_block(a, b, c, bias, M, N, K, transA, transB, lda, ldb, ldc, 0, M, 0, N, act, alpha, accumulate);
    return;
  }
  par(units, parts, [&](int64_t u0, int64_t u1, int64_t) {
    const int64_t lim = byRows ? M : N;
    const int64_t e0 = u0 * unit, e1 = u1 * unit < lim ? u1 * unit : lim;
    if (byRows) gemm_block(a, b, c, bias, M, N, K, transA, transB, lda, ldb, ldc, e0, e1, 0, N, act, alpha, accumulate);
    else gemm_block(a, b, c, bias, M, N, K, transA, transB, lda, ldb, ldc, 0, M, e0, e1, act, alpha, accumulate);
  });
}

}  // namespace

void matmul(const float* a, const float* b, float* c, const float* bias, int64_t batch, int64_t aCount,
            int64_t bCount, const int32_t* aIdx, const int32_t* bIdx, int64_t M, int64_t N, int64_t K,
            bool transA, bool transB, int32_t act, float alpha, bool accumulate) {
  if (batch == 0 || M == 0 || N == 0) return;
  if (batch == 1 || (!transA && bCount == 1 && aCount == batch && aIdx == nullptr)) {
    // One product; batches of a sharing one right-hand matrix stack into one tall left-hand matrix.
    gemm(a, b, c, bias, batch * M, N, K, transA, transB, act, alpha, accumulate);
    return;
  }
  const int64_t cStride = M * N;
  auto item = [&](int64_t i) {
    const int64_t ia = aIdx != nullptr ? aIdx[i] : (aCount == 1 ? 0 : i);
    const int64_t ib = bIdx != nullptr ? bIdx[i] : (bCount == 1 ? 0 : i);
    return [=](bool split) {
      const float* ai = a + ia * M * K;
      const float* bi = b + ib * K * N;
      float* ci = c + i * cStride;
      if (split) gemm(ai, bi, ci, bias, M, N, K, transA, transB, act, alpha, accumulate);
      else gemm_block(ai, bi, ci, bias, M, N, K, transA, transB, transA ? M : K, transB ? K : N, N, 0, M, 0, N, act, alpha,
                      accumulate);
    };
  };
  const int64_t parts = parts_for(batch * M * N * (K > 0 ? K : 1), kGemmWorkPerPart);
  if (parts > 1 && batch >= 2 * parts) {
    // Many small products: whole products per part.
    par(batch, parts, [&](int64_t i0, int64_t i1, int64_t) {
      for (int64_t i = i0; i < i1; ++i) item(i)(false);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i) item(i)(true);
  }
}

void copy_region(const uint32_t* src, uint32_t* dst, int32_t rank, const int32_t* size, const int32_t* srcShape,
                 const int32_t* srcBegin, const int32_t* dstShape, const int32_t* dstBegin) {
  for (int d = 0; d < rank; ++d)
    if (size[d] == 0) return;
  if (rank == 0) {
    dst[0] = src[0];
    return;
  }
  int64_t ss[kMaxRank], ds[kMaxRank];
  strides_of(rank, srcShape, ss);
  strides_of(rank, dstShape, ds);
  // Trailing dims that are whole in both arrays are contiguous, and so is the range of the first
  // dim before them: copy those as one chunk.
  int j = rank - 1;
  int64_t chunk = 1;
  while (j >= 0) {
    chunk *= size[j];
    if (size[j] == srcShape[j] && size[j] == dstShape[j] && j > 0) {
      --j;
    } else {
      break;
    }
  }
  int64_t srcOff = 0, dstOff = 0;
  for (int d = 0; d <= j; ++d) {
    srcOff += static_cast<int64_t>(srcBegin[d]) * ss[d];
    dstOff += static_cast<int64_t>(dstBegin[d]) * ds[d];
  }
  int64_t outer = 1;
  for (int d = 0; d < j; ++d) outer *= size[d];
  int64_t idx[kMaxRank] = {0};
  for (int64_t o = 0; o < outer; ++o) {
    std::memcpy(dst + dstOff, src + srcOff, sizeof(uint32_t) * chunk);
    for (int d = j - 1; d >= 0; --d) {
      srcOff += ss[d];
      dstOff += ds[d];
      if (++idx[d] < size[d]) break;
      srcOff -= ss[d] * size[d];
      dstOff -= ds[d] * size[d];
      idx[d] = 0;
    }
  }
}

void transpose(const uint32_t* x, uint32_t* out, int32_t rank, const int32_t* shape, const int32_t* perm) {
  int64_t inStride[kMaxRank];
  strides_of(rank, shape, inStride);
  // Output dims (in output order) with their input strides; size-1 dims dropped, and an output dim
  // merged into the previous one when they are also adjacent, in the same order, in the input.
  int64_t dim[kMaxRank], st[kMaxRank];
  int n = 0;
  for (int j = 0; j < rank; ++j) {
    const int d = perm[j];
    const int64_t size = shape[d];
    if (size == 1) continue;
    if (n > 0 && st[n - 1] == size * inStride[d]) {
      dim[n - 1] *= size;
      st[n - 1] = inStride[d];
    } else {
      dim[n] = size;
      st[n] = inStride[d];
      ++n;
    }
  }
  int64_t total = 1;
  for (int i = 0; i < n; ++i) total *= dim[i];
  if (total == 0) return;
  if (n == 0) {
    out[0] = x[0];
    return;
  }
  if (st[n - 1] == 1 || n == 1) {
    // Rows stay contiguous: copy them whole.
    const int64_t L = dim[n - 1];
    int64_t outer = total / L;
    int64_t idx[kMaxRank] = {0};
    int64_t off = 0;
    for (int64_t o = 0; o < outer; ++o) {
      std::memcpy(out + o * L, x + off, sizeof(uint32_t) * L);
      for (int d = n - 2; d >= 0; --d) {
        off += st[d];
        if (++idx[d] < dim[d]) break;
        off -= st[d] * dim[d];
        idx[d] = 0;
      }
    }
    return;
  }
  // A real transpose of the last two output dims, in 32x32 tiles so both sides stay in cache.
  const int64_t R = dim[n - 2], C = dim[n - 1];
  const int64_t sr = st[n - 2], sc = st[n - 1];
  int64_t outer = total / (R * C);
  int64_t idx[kMaxRank] = {0};
  int64_t off = 0;
  const int64_t kTile = 32;
  for (int64_t o = 0; o < outer; ++o) {
    uint32_t* base = out + o * R * C;
    for (int64_t i0 = 0; i0 < R; i0 += kTile) {
      const int64_t i1 = i0 + kTile < R ? i0 + kTile : R;
      for (int64_t j0 = 0; j0 < C; j0 += kTile) {
        const int64_t j1 = j0 + kTile < C ? j0 + kTile : C;
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t jj = j0; jj < j1; ++jj) base[i * C + jj] = x[off + i * sr + jj * sc];
      }
    }
    for (int d = n - 3; d >= 0; --d) {
      off += st[d];
      if (++idx[d] < dim[d]) break;
      off -= st[d] * dim[d];
      idx[d] = 0;
    }
  }
}

int64_t gather(const uint32_t* x, const int32_t* idx, uint32_t* out, int64_t outer, int64_t axisDim, int64_t inner,
               int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= axisDim) return i;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(out + (o * n + i) * inner, x + (o * axisDim + idx[i]) * inner, sizeof(uint32_t) * inner);
  return -1;
}

void unsorted_segment_sum(const float* x, const int32_t* ids, float* out, int64_t rows, int64_t inner,
                          int64_t numSegments) {
  std::memset(out, 0, sizeof(float) * numSegments * inner);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    float* __restrict dst = out + s * inner;
    const float* __restrict src = x + r * inner;
#pragma omp simd
    for (int64_t k = 0; k < inner; ++k) dst[k] += src[k];
  }
}

void one_hot(const int32_t* idx, float* out, int64_t n, int64_t depth, float on, float off) {
  for (int64_t i = 0; i < n * depth; ++i) out[i] = off;
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] >= 0 && idx[i] < depth) out[i * depth + idx[i]] = on;
}

void fill(float* out, int64_t n, float value) {
  for (int64_t i = 0; i < n; ++i) out[i] = value;
}

namespace {

// Columns [j0, j1) of col_sum: all rows in order.
void col_sum_block(const float* x, float* out, int64_t rows, int64_t cols, int64_t j0, int64_t j1, bool accumulate) {
  const int64_t w = j1 - j0;
  double* __restrict acc = static_cast<double*>(checked_malloc(sizeof(double) * w));
  if (acc == nullptr) return;
  for (int64_t j = 0; j < w; ++j) acc[j] = accumulate ? out[j0 + j] : 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict row = x + r * cols + j0;
#pragma omp simd
    for (int64_t j = 0; j < w; ++j) acc[j] += row[j];
  }
  for (int64_t j = 0; j < w; ++j) out[j0 + j] = static_cast<float>(acc[j]);
  std::free(acc);
}

void layer_norm_rows(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                     int64_t r0, int64_t r1, int64_t C, float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict xr = x + r * C;
    float* __restrict yr = y + r * C;
    // The mean accumulates in double, as reduce's sums do: in float32 a large offset (1e4, say) loses
    // the low bits of every value added, about 1% of a standard deviation of 1.
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < C; ++j) s += xr[j];
    const float mu = static_cast<float>(s / static_cast<double>(C));
    // Two passes, as tf.moments does: the variance of the centred values (float32 squares, summed in
    // double like the mean).
    double v = 0.0;
#pragma omp simd reduction(+ : v)
    for (int64_t j = 0; j < C; ++j) {
      const float d = xr[j] - mu;
      v += d * d;
    }
    const float var = static_cast<float>(v / static_cast<double>(C));
    const float rs = 1.0f / std::sqrt(var + eps);
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

}  // namespace

void col_sum(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate) {
  // Blocks of columns in parallel, each summed over all rows in order: the same sums as one thread's.
  const int64_t blocks = (cols + 15) / 16;
  par(blocks, parts_for(rows * cols, kElementsPerPart), [&](int64_t k0, int64_t k1, int64_t) {
    col_sum_block(x, out, rows, cols, k0 * 16, k1 * 16 < cols ? k1 * 16 : cols, accumulate);
  });
}

void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                int64_t rows, int64_t C, float eps) {
  par(rows, parts_for(rows * C, kElementsPerPart),
      [&](int64_t r0, int64_t r1, int64_t) { layer_norm_rows(x, gamma, beta, y, mean, rstd, r0, r1, C, eps); });
}

namespace {

// Parts of a reduction over rows: fixed by the size alone (not by the thread count), so that the partial
// sums, added in order, give the same result on every machine.
inline int64_t reduction_parts(int64_t rows, int64_t work) {
  int64_t p = work / (64 * 1024);
  if (p > 8) p = 8;
  if (p > rows) p = rows;
  return p < 1 ? 1 : p;
}

}  // namespace

namespace {

// Rows [r0, r1) of layer_norm_grad, adding into ag (dgamma) and ab (dbeta).
void layer_norm_grad_rows(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                          float* dx, float* __restrict ag, float* __restrict ab, int64_t r0, int64_t r1, int64_t C) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict xr = x + r * C;
    const float* __restrict gr = dy + r * C;
    const float mu = mean[r], rs = rstd[r];
    // With xhat = (x - mu) * rs and g = dy * gamma: dx = rs * (g - mean(g) - xhat * mean(g * xhat)).
    float sg = 0.0f, sgx = 0.0f;
#pragma omp simd reduction(+ : sg, sgx)
    for (int64_t j = 0; j < C; ++j) {
      const float xh = (xr[j] - mu) * rs;
      const float g = gr[j] * gamma[j];
      sg += g;
      sgx += g * xh;
      ag[j] += gr[j] * xh;
      ab[j] += gr[j];
    }
    const float mg = sg / static_cast<float>(C), mgx = sgx / static_cast<float>(C);
    if (dx != nullptr) {
      float* __restrict o = dx + r * C;
#pragma omp simd
      for (int64_t j = 0; j < C; ++j) {
        const float xh = (xr[j] - mu) * rs;
        o[j] = rs * (gr[j] * gamma[j] - mg - xh * mgx);
      }
    }
  }
}

}  // namespace

void layer_norm_grad(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                     float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t C) {
  const int64_t parts = reduction_parts(rows, rows * C);
  // Per part: C sums for dgamma, then C for dbeta.
  float* acc = static_cast<float*>(checked_malloc(sizeof(float) * 2 * C * parts));
  if (acc == nullptr) return;
  for (int64_t j = 0; j < 2 * C * parts; ++j) acc[j] = 0.0f;
  par(rows, parts, [&](int64_t r0, int64_t r1, int64_t part) {
    float* ag = acc + 2 * C * part;
    layer_norm_grad_rows(x, gamma, mean, rstd, dy, dx, ag, ag + C, r0, r1, C);
  });
  for (int64_t q = 1; q < parts; ++q) {
    const float* src = acc + 2 * C * q;
    for (int64_t j = 0; j < 2 * C; ++j) acc[j] += src[j];
  }
  if (dgamma != nullptr) std::memcpy(dgamma, acc, sizeof(float) * C);
  if (dbeta != nullptr) std::memcpy(dbeta, acc + C, sizeof(float) * C);
  std::free(acc);
}

namespace {

void rms_norm_rows(const float* x, const float* gamma, float* y, float* rstd, int64_t r0, int64_t r1, int64_t C,
                   float eps) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict xr = x + r * C;
    float* __restrict yr = y + r * C;
    // float32 squares summed in double, as layer_norm sums its mean: the reference's mean runs in
    // JavaScript doubles on the cpu backend, and a float32 running sum drifts from it for wide rows.
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < C; ++j) {
      const float v = xr[j] * xr[j];
      s += v;
    }
    const float ms = static_cast<float>(s / static_cast<double>(C));
    const float rs = 1.0f / std::sqrt(ms + eps);
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] * rs * gamma[j];
    rstd[r] = rs;
  }
}

// Rows [r0, r1) of rms_norm_grad, adding into ag (dgamma).
void rms_norm_grad_rows(const float* x, const float* gamma, const float* rstd, const float* dy, float* dx,
                        float* __restrict ag, int64_t r0, int64_t r1, int64_t C) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict xr = x + r * C;
    const float* __restrict gr = dy + r * C;
    const float rs = rstd[r];
    // With xhat = x * rs and g = dy * gamma: dx = rs * (g - xhat * mean(g * xhat)) (no mean subtracted
    // in the forward pass, so no mean(g) term).
    float sgx = 0.0f;
#pragma omp simd reduction(+ : sgx)
    for (int64_t j = 0; j < C; ++j) {
      const float xh = xr[j] * rs;
      sgx += gr[j] * gamma[j] * xh;
      ag[j] += gr[j] * xh;
    }
    const float mgx = sgx / static_cast<float>(C);
    if (dx != nullptr) {
      float* __restrict o = dx + r * C;
#pragma omp simd
      for (int64_t j = 0; j < C; ++j) o[j] = rs * (gr[j] * gamma[j] - xr[j] * rs * mgx);
    }
  }
}

}  // namespace

void rms_norm(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t C, float eps) {
  par(rows, parts_for(rows * C, kElementsPerPart),
      [&](int64_t r0, int64_t r1, int64_t) { rms_norm_rows(x, gamma, y, rstd, r0, r1, C, eps); });
}

void rms_norm_grad(const float* x, const float* gamma, const float* rstd, const float* dy, float* dx, float* dgamma,
                   int64_t rows, int64_t C) {
  const int64_t parts = reduction_parts(rows, rows * C);
  // Per part: C sums for dgamma, added in order afterwards (the same on every machine).
  float* acc = static_cast<float*>(checked_malloc(sizeof(float) * C * parts));
  if (acc == nullptr) return;
  for (int64_t j = 0; j < C * parts; ++j) acc[j] = 0.0f;
  par(rows, parts, [&](int64_t r0, int64_t r1, int64_t part) {
    rms_norm_grad_rows(x, gamma, rstd, dy, dx, acc + C * part, r0, r1, C);
  });
  for (int64_t q = 1; q < parts; ++q) {
    const float* src = acc + C * q;
    for (int64_t j = 0; j < C; ++j) acc[j] += src[j];
  }
  if (dgamma != nullptr) std::memcpy(dgamma, acc, sizeof(float) * C);
  std::free(acc);
}

namespace {

void gelu_grad_serial(const float* x, const float* dy, float* dx, int64_t n) {
  const float* __restrict xs = x;
  const float* __restrict g = dy;
  float* __restrict o = dx;
  // gelu'(x) = Phi(x) + x * phi(x). erf(x / sqrt 2) in tfjs's form needs exp(-x^2 / 2), which is also
  // the normal density phi(x) up to its constant: one exp serves both.
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = xs[i];
    const float a = std::fabs(v) * 0.70710678118654752f;
    const float e = fexp(-a * a);
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    const float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    const float erfa = 1.0f - poly * e;
    const float cdf = 0.5f * (1.0f + (v > 0.0f ? erfa : -erfa));
    o[i] = g[i] * (cdf + v * (0.39894228040143268f * e));
  }
}

}  // namespace

void gelu_grad(const float* x, const float* dy, float* dx, int64_t n) {
  par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { gelu_grad_serial(x + b, dy + b, dx + b, e - b); });
}

namespace {

// ---- the gated MLP's elementwise part ----
//
// Each activation as one function of the gate value v giving act(v) and, for the gradient, act'(v); the
// loops below are written once and take it inlined, so each activation's loop vectorizes on its own.

struct ActAndSlope {
  float act, slope;
};

inline ActAndSlope relu_of(float v) { return {v > 0.0f ? v : 0.0f, v > 0.0f ? 1.0f : 0.0f}; }

// GELU's exact erf form, its erf in tfjs's form (ferf), whose exp(-v^2 / 2) is also the normal density
// phi(v) up to its constant, as in gelu_grad_serial.
inline ActAndSlope gelu_of(float v) {
  const float a = std::fabs(v) * 0.70710678118654752f;
  const float e = fexp(-a * a);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  const float erfa = 1.0f - poly * e;
  const float cdf = 0.5f * (1.0f + (v > 0.0f ? erfa : -erfa));
  return {v * cdf, cdf + v * (0.39894228040143268f * e)};
}

// silu(v) = v * s with s = sigmoid(v); silu'(v) = s * (1 + v * (1 - s)).
inline ActAndSlope silu_of(float v) {
  const float s = 1.0f / (1.0f + fexp(-v));
  return {v * s, s * (1.0f + v * (1.0f - s))};
}

inline ActAndSlope relu2_of(float v) {
  const float r = v > 0.0f ? v : 0.0f;
  return {r * r, 2.0f * r};
}

template <typename F>
void gated_fwd_serial(const float* gate, const float* up, float* y, int64_t n, F f) {
  const float* __restrict g = gate;
  const float* __restrict u = up;
  float* __restrict o = y;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = f(g[i]).act * u[i];
}

template <typename F>
void gated_bwd_serial(const float* gate, const float* up, const float* dy, float* dgate, float* dup, int64_t n, F f) {
  const float* __restrict g = gate;
  const float* __restrict u = up;
  const float* __restrict d = dy;
  float* __restrict dg = dgate;
  float* __restrict du = dup;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const ActAndSlope as = f(g[i]);
    dg[i] = d[i] * u[i] * as.slope;
    du[i] = d[i] * as.act;
  }
}

// Calls body with the activation's function for code act.
template <typename Body>
void with_gated_act(int32_t act, const Body& body) {
  switch (act) {
    case kGatedRelu: body([](float v) { return relu_of(v); }); break;
    case kGatedGelu: body([](float v) { return gelu_of(v); }); break;
    case kGatedSilu: body([](float v) { return silu_of(v); }); break;
    case kGatedRelu2: body([](float v) { return relu2_of(v); }); break;
    default: break;  // the binding refuses other codes
  }
}

}  // namespace

void gated_activation(const float* gate, const float* up, float* y, int64_t n, int32_t act) {
  with_gated_act(act, [&](auto f) {
    par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { gated_fwd_serial(gate + b, up + b, y + b, e - b, f); });
  });
}

void gated_activation_grad(const float* gate, const float* up, const float* dy, float* dgate, float* dup, int64_t n,
                           int32_t act) {
  with_gated_act(act, [&](auto f) {
    par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) {
      gated_bwd_serial(gate + b, up + b, dy + b, dgate + b, dup + b, e - b, f);
    });
  });
}

namespace {

template <typename F>
void act_fwd_serial(const float* x, float* y, int64_t n, F f) {
  const float* __restrict xs = x;
  float* __restrict o = y;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = f(xs[i]).act;
}

template <typename F>
void act_bwd_serial(const float* x, const float* dy, float* dx, int64_t n, F f) {
  const float* __restrict xs = x;
  const float* __restrict d = dy;
  float* __restrict o = dx;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) o[i] = d[i] * f(xs[i]).slope;
}

}  // namespace

void mlp_activation(const float* x, float* y, int64_t n, int32_t act) {
  with_gated_act(act, [&](auto f) {
    par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { act_fwd_serial(x + b, y + b, e - b, f); });
  });
}

void mlp_activation_grad(const float* x, const float* dy, float* dx, int64_t n, int32_t act) {
  with_gated_act(act, [&](auto f) {
    par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { act_bwd_serial(x + b, dy + b, dx + b, e - b, f); });
  });
}

// ---- a mixture of experts' weighted sum (runtime/ops/expert-mix.ts) ----

void expert_combine(const float* o, const int32_t* pos, const float* w, float* y, int64_t N, int64_t K, int64_t C) {
  par(N, parts_for(N * K * C, kElementsPerPart), [&](int64_t n0, int64_t n1, int64_t) {
    for (int64_t n = n0; n < n1; ++n) {
      float* __restrict yr = y + n * C;
      for (int64_t k = 0; k < K; ++k) {
        const float wk = w ? w[n * K + k] : 1.0f;
        const float* __restrict ok = o + static_cast<int64_t>(pos[n * K + k]) * C;
        if (k == 0) {
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) yr[j] = wk * ok[j];
        } else {
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) yr[j] += wk * ok[j];
        }
      }
      if (K == 0) std::memset(yr, 0, sizeof(float) * C);
    }
  });
}

void expert_combine_grad(const float* o, const int32_t* pos, const float* w, const float* dy, float* dO, float* dw,
                         int64_t N, int64_t K, int64_t C) {
  par(N, parts_for(N * K * C, kElementsPerPart), [&](int64_t n0, int64_t n1, int64_t) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* __restrict d = dy + n * C;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t p = pos[n * K + k];
        const float* __restrict ok = o + p * C;
        float* __restrict dok = dO + p * C;
        const float wk = w[n * K + k];
        // The dot product in double, as reductions here are summed: C terms of either sign.
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < C; ++j) s += static_cast<double>(d[j] * ok[j]);
        dw[n * K + k] = static_cast<float>(s);
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) dok[j] = wk * d[j];
      }
    }
  });
}

namespace {

double cross_entropy_rows(const float* logits, const int32_t* targets, float* probs, int64_t r0, int64_t r1, int64_t V) {
  // Rows in chunks, each loop over the whole chunk (row maxima, exponentials, sums and scaling, losses):
  // with a short row (65 characters) the loops' set-up cost is what a row-at-a-time loop spends most on.
  constexpr int64_t kChunk = 256;
  float mx[kChunk], sm[kChunk];
  double total = 0.0;
  for (int64_t c0 = r0; c0 < r1; c0 += kChunk) {
    const int64_t n = r1 - c0 < kChunk ? r1 - c0 : kChunk;
    for (int64_t r = 0; r < n; ++r) {
      const float* __restrict in = logits + (c0 + r) * V;
      float m = -HUGE_VALF;
#pragma omp simd reduction(max : m)
      for (int64_t j = 0; j < V; ++j) m = in[j] > m ? in[j] : m;
      mx[r] = m;
    }
    for (int64_t r = 0; r < n; ++r) {
      const float* __restrict in = logits + (c0 + r) * V;
      float* __restrict p = probs + (c0 + r) * V;
      const float m = mx[r];
#pragma omp simd
      for (int64_t j = 0; j < V; ++j) p[j] = fexp(in[j] - m);
    }
    for (int64_t r = 0; r < n; ++r) {
      float* __restrict p = probs + (c0 + r) * V;
      float s = 0.0f;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < V; ++j) s += p[j];
      sm[r] = s;
      const float inv = 1.0f / s;
#pragma omp simd
      for (int64_t j = 0; j < V; ++j) p[j] *= inv;
    }
    for (int64_t r = 0; r < n; ++r) {
      const int32_t t = targets[c0 + r];
      // A target outside the vocabulary one-hot encodes to zeros: it adds nothing to the loss.
      if (t >= 0 && t < V) total += static_cast<double>(mx[r]) + std::log(static_cast<double>(sm[r])) - logits[(c0 + r) * V + t];
    }
  }
  return total;
}

}  // namespace

double cross_entropy(const float* logits, const int32_t* targets, float* probs, int64_t rows, int64_t V) {
  // Parts fixed by the size (so the sum is the same on every machine). Below 32K values one thread: the
  // bigram's loss (16K) is done in a few microseconds, less than it would cost to keep a second thread
  // awake for it, which competes with V8's own background threads.
  const int64_t work = rows * V;
  int64_t parts = work >= 32 * 1024 ? work / (16 * 1024) : 1;
  if (parts > 8) parts = 8;
  if (parts > rows) parts = rows;
  double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  par(rows, parts, [&](int64_t r0, int64_t r1, int64_t part) {
    partial[part] = cross_entropy_rows(logits, targets, probs, r0, r1, V);
  });
  double total = 0.0;
  for (int64_t q = 0; q < parts; ++q) total += partial[q];
  // The mean over no rows is 0, as tf.mean of an empty tensor gives.
  return rows > 0 ? total / static_cast<double>(rows) : 0.0;
}

void cross_entropy_grad(const float* probs, const int32_t* targets, float* dlogits, int64_t rows, int64_t V,
                        float scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict p = probs + r * V;
    float* __restrict o = dlogits + r * V;
    const int32_t t = targets[r];
    if (t < 0 || t >= V) {
      std::memset(o, 0, sizeof(float) * V);
      continue;
    }
#pragma omp simd
    for (int64_t j = 0; j < V; ++j) o[j] = p[j] * scale;
    o[t] -= scale;
  }
}

namespace {

// Where each batch's matrices live: row strides (ld*) and batch strides (s*) of q, k, v, out and p. The
// heads of a fused QKV projection [B*T, 3*H*D] are column blocks with ld = 3*H*D.
struct AttnLayout {
  int64_t ldq, ldk, ldv, ldo;
  int64_t sq, sk, sv, so, sp;
};

// The rows of causal attention's weights: Tq queries, the last Tq of Tk positions (Tq = Tk without a
// cache), so row i sees the positions up to and including Tk - Tq + i and the rest are zero.

// One row of Tk scores: the softmax over the visible keys [lo, n), in place, zero elsewhere.
inline void softmax_visible(float* __restrict row, int64_t lo, int64_t n, int64_t Tk) {
  for (int64_t j = 0; j < lo; ++j) row[j] = 0.0f;
  float m = -HUGE_VALF;
#pragma omp simd reduction(max : m)
  for (int64_t j = lo; j < n; ++j) m = row[j] > m ? row[j] : m;
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = lo; j < n; ++j) {
    const float e = fexp(row[j] - m);
    row[j] = e;
    s += e;
  }
#pragma omp simd
  for (int64_t j = lo; j < n; ++j) row[j] = row[j] / s;
  for (int64_t j = n; j < Tk; ++j) row[j] = 0.0f;
}

// Each row's softmax over its visible part, in place on the scores.
void causal_softmax(float* p, int64_t Tq, int64_t Tk) {
  const int64_t off = Tk - Tq;
  for (int64_t i = 0; i < Tq; ++i) softmax_visible(p + i * Tk, 0, off + i + 1, Tk);
}

// One row of the scores' gradient from the weights' (dr holds dL/dweights on entry; mr, or null, the
// dropout flags, undone with keepScale): dr = p * (dr - rowsum(p * dr)) * scale over the visible keys
// [lo, n), times the cap's derivative g where there is a cap (g not null), zero elsewhere.
inline void softmax_grad_visible(const float* __restrict pr, float* __restrict dr, const uint8_t* __restrict mr,
                                 const float* __restrict g, float keepScale, float scale, int64_t lo, int64_t n, int64_t Tk) {
  for (int64_t j = 0; j < lo; ++j) dr[j] = 0.0f;
  if (mr != nullptr) {
    for (int64_t j = lo; j < n; ++j) dr[j] = dr[j] * (mr[j] ? keepScale : 0.0f);
  }
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = lo; j < n; ++j) dot += pr[j] * dr[j];
  if (g == nullptr) {
#pragma omp simd
    for (int64_t j = lo; j < n; ++j) dr[j] = pr[j] * (dr[j] - dot) * scale;
  } else {
#pragma omp simd
    for (int64_t j = lo; j < n; ++j) dr[j] = pr[j] * (dr[j] - dot) * g[j] * scale;
  }
  for (int64_t j = n; j < Tk; ++j) dr[j] = 0.0f;
}

// The scores' gradient from the weights' (ds holds dL/dweights on entry, the dropout mask undone by
// mask and keepScale when there is one): ds = p * (ds - rowsum(p * ds)) * scale over each row's visible
// part, zero past it. Shared by multi-head and grouped attention, as causal_softmax is.
void causal_softmax_grad(const float* p, float* ds, const uint8_t* mask, float keepScale, float scale, int64_t Tq, int64_t Tk) {
  const int64_t off = Tk - Tq;
  for (int64_t i = 0; i < Tq; ++i) {
    softmax_grad_visible(p + i * Tk, ds + i * Tk, mask == nullptr ? nullptr : mask + i * Tk, nullptr, keepScale, scale, 0,
                         off + i + 1, Tk);
  }
}

// ---- score shaping (ScoreShaping), one head at a time ----

// One head's part of a ScoreShaping: its slope, and its [Tq, Tk] block of the cap's derivative.
struct HeadShaping {
  int64_t window;  // 0: none
  bool alibi;
  double slope;
  float softcap;   // 0: none
  float* capGrad;  // null: not kept (forward only)
};

// Head h's shaping, for the item (batch, head) whose weights are block `item` of p [.., Tq, Tk].
HeadShaping head_shaping(const ScoreShaping& s, int64_t h, int64_t item, int64_t Tq, int64_t Tk) {
  return HeadShaping{s.window, s.slopes != nullptr, s.slopes != nullptr ? s.slopes[h] : 0.0, s.softcap,
                     s.capGrad != nullptr && s.softcap > 0.0f ? s.capGrad + item * Tq * Tk : nullptr};
}

// Whether it does anything beyond the causal mask (else the plain causal softmax runs, as before).
bool shapes(const HeadShaping& s) { return s.window > 0 || s.alibi || s.softcap > 0.0f; }

// The first key query row r (position off + r) sees: 0 without a window.
inline int64_t first_key(int64_t r, int64_t off, int64_t window) {
  const int64_t lo = off + r - window + 1;
  return window > 0 && lo > 0 ? lo : 0;
}

// The end of the query rows that see any key before j1 (row r sees key j when j <= off + r and, with a
// window, j >= off + r - window + 1): every row without a window.
inline int64_t rows_seeing(int64_t j1, int64_t off, int64_t window, int64_t Tq) {
  if (window <= 0) return Tq;
  const int64_t r1 = j1 - off + window - 1;
  return r1 < Tq ? (r1 > 0 ? r1 : 0) : Tq;
}

// causal_softmax with the shaping, in score-shaping.ts's order: each row's visible scores capped (as the
// reference's tf ops round it: s / cap, tanh, times cap, each to float32; ftanh within 1 ulp of its
// tanh), then biased by ALiBi (the bias rounded from double, as the reference makes it), then the softmax
// over the keys the row sees (first_key ... off + i), zero elsewhere. The cap's derivative 1 - tanh^2
// goes to capGrad when kept.
void shaped_softmax(float* p, int64_t Tq, int64_t Tk, const HeadShaping& sh) {
  const int64_t off = Tk - Tq;
  const float c = sh.softcap;
  for (int64_t i = 0; i < Tq; ++i) {
    float* __restrict row = p + i * Tk;
    const int64_t lo = first_key(i, off, sh.window), n = off + i + 1;
    if (c > 0.0f && sh.capGrad == nullptr) {
      for (int64_t j = lo; j < n; ++j) row[j] = ftanh(row[j] / c) * c;
    } else if (c > 0.0f) {
      float* __restrict g = sh.capGrad + i * Tk;
      for (int64_t j = lo; j < n; ++j) {
        const float t = ftanh(row[j] / c);
        row[j] = t * c;
        g[j] = 1.0f - t * t;
      }
      for (int64_t j = 0; j < lo; ++j) g[j] = 0.0f;
      for (int64_t j = n; j < Tk; ++j) g[j] = 0.0f;
    }
    if (sh.alibi) {
      // -m (pos - j), with pos - j = d0 - (j - lo) counted in int32 (which converts to double in vectors)
      // where the visible span allows, as it always does in practice.
      const double m = sh.slope;
      const int64_t pos = off + i;
      const double d0 = static_cast<double>(pos - lo);
      float* __restrict r = row + lo;
      if (n - lo <= INT32_MAX) {
        const int32_t span = static_cast<int32_t>(n - lo);
        for (int32_t j = 0; j < span; ++j) r[j] += static_cast<float>(-m * (d0 - static_cast<double>(j)));
      } else {
        for (int64_t j = lo; j < n; ++j) row[j] += static_cast<float>(-m * static_cast<double>(pos - j));
      }
    }
    softmax_visible(row, lo, n, Tk);
  }
}

// causal_softmax_grad with the shaping: the bias and the masks pass the gradient through (none to masked
// keys); the cap multiplies it by its derivative, kept by shaped_softmax.
void shaped_softmax_grad(const float* p, float* ds, const uint8_t* mask, float keepScale, float scale, int64_t Tq,
                         int64_t Tk, const HeadShaping& sh) {
  const int64_t off = Tk - Tq;
  for (int64_t i = 0; i < Tq; ++i) {
    softmax_grad_visible(p + i * Tk, ds + i * Tk, mask == nullptr ? nullptr : mask + i * Tk,
                         sh.capGrad != nullptr ? sh.capGrad + i * Tk : nullptr, keepScale, scale,
                         first_key(i, off, sh.window), off + i + 1, Tk);
  }
}

// The weights of one head from its scores, plain or shaped.
void attention_softmax(float* p, int64_t Tq, int64_t Tk, const HeadShaping& sh) {
  if (shapes(sh)) shaped_softmax(p, Tq, Tk, sh);
  else causal_softmax(p, Tq, Tk);
}

void attention_softmax_grad(const float* p, float* ds, const uint8_t* mask, float keepScale, float scale, int64_t Tq,
                            int64_t Tk, const HeadShaping& sh) {
  if (shapes(sh)) shaped_softmax_grad(p, ds, mask, keepScale, scale, Tq, Tk, sh);
  else causal_softmax_grad(p, ds, mask, keepScale, scale, Tq, Tk);
}

// The weights after dropout, pd = p * (mask ? keepScale : 0), over each row's visible part.
void apply_dropout(const float* p, const uint8_t* mask, float keepScale, float* pd, int64_t Tq, int64_t Tk) {
  const int64_t off = Tk - Tq;
  for (int64_t i = 0; i < Tq; ++i) {
    const float* __restrict pr = p + i * Tk;
    const uint8_t* __restrict mr = mask + i * Tk;
    float* __restrict o = pd + i * Tk;
    const int64_t n = off + i + 1;
    for (int64_t j = 0; j < n; ++j) o[j] = pr[j] * (mr[j] ? keepScale : 0.0f);
    for (int64_t j = n; j < Tk; ++j) o[j] = 0.0f;
  }
}

// The products below skip what causality zeroes: the rows are cut into blocks of `attn_block(T)`, and
// for the rows of block [i0, i1) only the first i1 columns of the scores (and of the weights) exist,
// which saves a quarter of the work at T = 64 and more for longer contexts. (Inside a block, the few
// entries above the diagonal are computed and then set to zero.)
int64_t attn_block(int64_t T) { return T >= 128 ? 64 : (T >= 64 ? 32 : T); }

// c[rows, cols] (ldc) = alpha * a b^T or a b, single-threaded; thin wrapper for the attention products.
inline void sg(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float* c, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  sgemm(transA, transB, M, N, K, alpha, a, lda, b, ldb, 0.0f, c, ldc);
}

// One batch entry b of causal attention. With a mask (dropout on the weights), scratch holds T*T floats.
// With a window, the products also skip the keys before the first one a block's rows see.
void attention_fwd_one(const float* q, const float* k, const float* v, float* out, float* p, int64_t b, int64_t T,
                       int64_t D, float scale, const AttnLayout& L, const HeadShaping& sh, const uint8_t* mask = nullptr,
                       float keepScale = 1.0f, float* scratch = nullptr) {
  float* pb = p + b * L.sp;
  const float* qb = q + b * L.sq;
  const float* kb = k + b * L.sk;
  const float* vb = v + b * L.sv;
  float* ob = out + b * L.so;
  const int64_t bs = attn_block(T);
  // Scores q k^T * scale, then a softmax over the positions up to and including each row's own.
  for (int64_t i0 = 0; i0 < T; i0 += bs) {
    const int64_t i1 = i0 + bs < T ? i0 + bs : T;
    const int64_t c0 = first_key(i0, 0, sh.window);
    sg(false, true, i1 - i0, i1 - c0, D, scale, qb + i0 * L.ldq, L.ldq, kb + c0 * L.ldk, L.ldk, pb + i0 * T + c0, T);
  }
  attention_softmax(pb, T, T, sh);
  const float* weights = pb;
  if (mask != nullptr) {
    apply_dropout(pb, mask, keepScale, scratch, T, T);
    weights = scratch;
  }
  for (int64_t i0 = 0; i0 < T; i0 += bs) {
    const int64_t i1 = i0 + bs < T ? i0 + bs : T;
    const int64_t c0 = first_key(i0, 0, sh.window);
    sg(false, false, i1 - i0, D, i1 - c0, 1.0f, weights + i0 * T + c0, T, vb + c0 * L.ldv, L.ldv, ob + i0 * L.ldo, L.ldo);
  }
}

// dq, dk, dv are laid out as q, k, v; dout as out. ds holds T*T floats (2*T*T with a mask).
void attention_bwd_one(const float* q, const float* k, const float* v, const float* p, const float* dout, float* dq,
                       float* dk, float* dv, float* ds, int64_t b, int64_t T, int64_t D, float scale,
                       const AttnLayout& L, const HeadShaping& sh, const uint8_t* mask = nullptr, float keepScale = 1.0f) {
  const float* pb = p + b * L.sp;
  const float* dob = dout + b * L.so;
  const float* qb = q + b * L.sq;
  const float* kb = k + b * L.sk;
  const float* vb = v + b * L.sv;
  const float* weights = pb;
  if (mask != nullptr) {
    apply_dropout(pb, mask, keepScale, ds + T * T, T, T);
    weights = ds + T * T;
  }
  const int64_t bs = attn_block(T);
  // dv = w^T dout (w: the weights after dropout); dw = dout v^T; dp = dw * mask / keep;
  // ds = p * (dp - rowsum(dp * p)) * scale; dq = ds k; dk = ds^T q. Column block [j0, j1) of w and ds
  // is nonzero only in rows j0 and after (and, with a window, before rows_seeing(j1)).
  for (int64_t j0 = 0; j0 < T; j0 += bs) {
    const int64_t j1 = j0 + bs < T ? j0 + bs : T;
    const int64_t r1 = rows_seeing(j1, 0, sh.window, T);
    sg(true, false, j1 - j0, D, r1 - j0, 1.0f, weights + j0 * T + j0, T, dob + j0 * L.ldo, L.ldo, dv + b * L.sv + j0 * L.ldv, L.ldv);
  }
  for (int64_t i0 = 0; i0 < T; i0 += bs) {
    const int64_t i1 = i0 + bs < T ? i0 + bs : T;
    const int64_t c0 = first_key(i0, 0, sh.window);
    sg(false, true, i1 - i0, i1 - c0, D, 1.0f, dob + i0 * L.ldo, L.ldo, vb + c0 * L.ldv, L.ldv, ds + i0 * T + c0, T);
  }
  attention_softmax_grad(pb, ds, mask, keepScale, scale, T, T, sh);
  for (int64_t i0 = 0; i0 < T; i0 += bs) {
    const int64_t i1 = i0 + bs < T ? i0 + bs : T;
    const int64_t c0 = first_key(i0, 0, sh.window);
    sg(false, false, i1 - i0, D, i1 - c0, 1.0f, ds + i0 * T + c0, T, kb + c0 * L.ldk, L.ldk, dq + b * L.sq + i0 * L.ldq, L.ldq);
  }
  for (int64_t j0 = 0; j0 < T; j0 += bs) {
    const int64_t j1 = j0 + bs < T ? j0 + bs : T;
    const int64_t r1 = rows_seeing(j1, 0, sh.window, T);
    sg(true, false, j1 - j0, D, r1 - j0, 1.0f, ds + j0 * T + j0, T, qb + j0 * L.ldq, L.ldq, dk + b * L.sk + j0 * L.ldk, L.ldk);
  }
}

AttnLayout fused_heads(int64_t T, int64_t H, int64_t D) {
  const int64_t w = 3 * H * D;
  return AttnLayout{w, w, w, H * D, T * w, T * w, T * w, T * H * D, H * T * T};
}

// Parts for `items` independent (batch, head) problems of T x T x D each.
int64_t attention_parts(int64_t items, int64_t T, int64_t D) {
  const int64_t per = 4 * T * T * D;  // multiply-adds of one item, forward
  int64_t parts = parts_for(items * per, kGemmWorkPerPart);
  return parts;
}

}  // namespace

void mha_attention(const float* qkv, float* out, float* p, int64_t B, int64_t T, int64_t H, int64_t D, float scale,
                   const ScoreShaping& shaping) {
  const AttnLayout L = fused_heads(T, H, D);
  par(B * H, attention_parts(B * H, T, D), [&](int64_t i0, int64_t i1, int64_t) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* q = qkv + 3 * h * D;
      attention_fwd_one(q, q + D, q + 2 * D, out + h * D, p + h * T * T, b, T, D, scale, L,
                        head_shaping(shaping, h, i, T, T));
    }
  });
}

void mha_attention_dropout(const float* qkv, float* out, float* p, const uint8_t* mask, float keep, int64_t B,
                           int64_t T, int64_t H, int64_t D, float scale, const ScoreShaping& shaping) {
  if (mask == nullptr) return mha_attention(qkv, out, p, B, T, H, D, scale, shaping);
  const AttnLayout L = fused_heads(T, H, D);
  const float keepScale = 1.0f / keep;
  par(B * H, attention_parts(B * H, T, D), [&](int64_t i0, int64_t i1, int64_t) {
    float* pd = static_cast<float*>(checked_malloc(sizeof(float) * T * T));
    if (pd == nullptr) return;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* q = qkv + 3 * h * D;
      attention_fwd_one(q, q + D, q + 2 * D, out + h * D, p + h * T * T, b, T, D, scale, L,
                        head_shaping(shaping, h, i, T, T), mask + i * T * T, keepScale, pd);
    }
    std::free(pd);
  });
}

void mha_attention_dropout_grad(const float* qkv, const float* p, const uint8_t* mask, float keep, const float* dout,
                                float* dqkv, float* scratch, int64_t B, int64_t T, int64_t H, int64_t D, float scale,
                                const ScoreShaping& shaping) {
  if (mask == nullptr) return mha_attention_grad(qkv, p, dout, dqkv, scratch, B, T, H, D, scale, shaping);
  const AttnLayout L = fused_heads(T, H, D);
  const float keepScale = 1.0f / keep;
  par(B * H, attention_parts(B * H, T, D), [&](int64_t i0, int64_t i1, int64_t) {
    float* ds = static_cast<float*>(checked_malloc(sizeof(float) * 2 * T * T));
    if (ds == nullptr) return;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* q = qkv + 3 * h * D;
      float* dq = dqkv + 3 * h * D;
      attention_bwd_one(q, q + D, q + 2 * D, p + h * T * T, dout + h * D, dq, dq + D, dq + 2 * D, ds, b, T, D, scale, L,
                        head_shaping(shaping, h, i, T, T), mask + i * T * T, keepScale);
    }
    std::free(ds);
  });
}

namespace {

// ---- grouped causal attention of projected heads (causal_attention) ----
//
// One query head against its kv head: q [Tq, D], k and v [Tk, D] (rows of D), p [Tq, Tk]. The queries
// are the last Tq of the Tk positions (off = Tk - Tq), so query row i sees keys 0 ... off + i. The row
// blocks skip what causality zeroes, as attention_fwd_one's do, with the diagonal moved right by off.

// c = alpha * op(a) op(b) + beta * c, single-threaded.
inline void sgb(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  sgemm(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}


// With a mask, scratch holds Tq*Tk floats for the dropped weights.
void gqa_fwd_one(const float* q, const float* k, const float* v, float* out, float* p, int64_t Tq, int64_t Tk,
                 int64_t D, float scale, const uint8_t* mask, float keepScale, float* scratch, const HeadShaping& sh) {
  const int64_t off = Tk - Tq;
  const int64_t bs = attn_block(Tq);
  for (int64_t i0 = 0; i0 < Tq; i0 += bs) {
    const int64_t i1 = i0 + bs < Tq ? i0 + bs : Tq;
    const int64_t c0 = first_key(i0, off, sh.window);
    sgb(false, true, i1 - i0, off + i1 - c0, D, scale, q + i0 * D, D, k + c0 * D, D, 0.0f, p + i0 * Tk + c0, Tk);
  }
  attention_softmax(p, Tq, Tk, sh);
  const float* weights = p;
  if (mask != nullptr) {
    apply_dropout(p, mask, keepScale, scratch, Tq, Tk);
    weights = scratch;
  }
  for (int64_t i0 = 0; i0 < Tq; i0 += bs) {
    const int64_t i1 = i0 + bs < Tq ? i0 + bs : Tq;
    const int64_t c0 = first_key(i0, off, sh.window);
    sgb(false, false, i1 - i0, D, off + i1 - c0, 1.0f, weights + i0 * Tk + c0, Tk, v + c0 * D, D, 0.0f, out + i0 * D, D);
  }
}

// dq [Tq, D] is written; dk, dv [Tk, D] are written (accumulate false) or added to (true), for the query
// heads of one group. ds holds Tq*Tk floats (2*Tq*Tk with a mask).
void gqa_bwd_one(const float* q, const float* k, const float* v, const float* p, const float* dout, float* dq,
                 float* dk, float* dv, float* ds, int64_t Tq, int64_t Tk, int64_t D, float scale, const uint8_t* mask,
                 float keepScale, bool accumulate, const HeadShaping& sh) {
  const int64_t off = Tk - Tq;
  const float beta = accumulate ? 1.0f : 0.0f;
  const float* weights = p;
  if (mask != nullptr) {
    apply_dropout(p, mask, keepScale, ds + Tq * Tk, Tq, Tk);
    weights = ds + Tq * Tk;
  }
  const int64_t bs = attn_block(Tq);
  const int64_t cs = attn_block(Tk);
  // dv = w^T dout: column block [j0, j1) of w is nonzero only in the rows i with off + i >= j0 (and, with
  // a window, before rows_seeing(j1): keys that no query sees get a zero gradient).
  for (int64_t j0 = 0; j0 < Tk; j0 += cs) {
    const int64_t j1 = j0 + cs < Tk ? j0 + cs : Tk;
    const int64_t r0 = j0 > off ? j0 - off : 0;
    const int64_t r1 = rows_seeing(j1, off, sh.window, Tq);
    if (r1 > r0) sgb(true, false, j1 - j0, D, r1 - r0, 1.0f, weights + r0 * Tk + j0, Tk, dout + r0 * D, D, beta, dv + j0 * D, D);
    else if (!accumulate) std::memset(dv + j0 * D, 0, sizeof(float) * (j1 - j0) * D);
  }
  for (int64_t i0 = 0; i0 < Tq; i0 += bs) {
    const int64_t i1 = i0 + bs < Tq ? i0 + bs : Tq;
    const int64_t c0 = first_key(i0, off, sh.window);
    sgb(false, true, i1 - i0, off + i1 - c0, D, 1.0f, dout + i0 * D, D, v + c0 * D, D, 0.0f, ds + i0 * Tk + c0, Tk);
  }
  attention_softmax_grad(p, ds, mask, keepScale, scale, Tq, Tk, sh);
  for (int64_t i0 = 0; i0 < Tq; i0 += bs) {
    const int64_t i1 = i0 + bs < Tq ? i0 + bs : Tq;
    const int64_t c0 = first_key(i0, off, sh.window);
    sgb(false, false, i1 - i0, D, off + i1 - c0, 1.0f, ds + i0 * Tk + c0, Tk, k + c0 * D, D, 0.0f, dq + i0 * D, D);
  }
  for (int64_t j0 = 0; j0 < Tk; j0 += cs) {
    const int64_t j1 = j0 + cs < Tk ? j0 + cs : Tk;
    const int64_t r0 = j0 > off ? j0 - off : 0;
    const int64_t r1 = rows_seeing(j1, off, sh.window, Tq);
    if (r1 > r0) sgb(true, false, j1 - j0, D, r1 - r0, 1.0f, ds + r0 * Tk + j0, Tk, q + r0 * D, D, beta, dk + j0 * D, D);
    else if (!accumulate) std::memset(dk + j0 * D, 0, sizeof(float) * (j1 - j0) * D);
  }
}

}  // namespace

void causal_attention(const float* q, const float* k, const float* v, float* out, float* p, const uint8_t* mask,
                      float keep, int64_t B, int64_t H, int64_t KV, int64_t Tq, int64_t Tk, int64_t D, float scale,
                      const ScoreShaping& shaping) {
  const int64_t group = H / KV;
  const float keepScale = 1.0f / keep;
  par(B * H, parts_for(B * H * 4 * Tq * Tk * D, kGemmWorkPerPart), [&](int64_t i0, int64_t i1, int64_t) {
    float* pd = nullptr;
    if (mask != nullptr) {
      pd = static_cast<float*>(checked_malloc(sizeof(float) * Tq * Tk));
      if (pd == nullptr) return;
    }
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / H, h = i % H;
      const int64_t kv = b * KV + h / group;
      gqa_fwd_one(q + i * Tq * D, k + kv * Tk * D, v + kv * Tk * D, out + i * Tq * D, p + i * Tq * Tk, Tq, Tk, D, scale,
                  mask == nullptr ? nullptr : mask + i * Tq * Tk, keepScale, pd, head_shaping(shaping, h, i, Tq, Tk));
    }
    std::free(pd);
  });
}

void causal_attention_grad(const float* q, const float* k, const float* v, const float* p, const uint8_t* mask,
                           float keep, const float* dout, float* dq, float* dk, float* dv, int64_t B, int64_t H,
                           int64_t KV, int64_t Tq, int64_t Tk, int64_t D, float scale, const ScoreShaping& shaping) {
  const int64_t group = H / KV;
  const float keepScale = 1.0f / keep;
  // One item per kv head: the query heads of its group run in turn and add into its dk and dv, so no two
  // threads write the same rows.
  par(B * KV, parts_for(B * H * 8 * Tq * Tk * D, kGemmWorkPerPart), [&](int64_t g0, int64_t g1, int64_t) {
    float* ds = static_cast<float*>(checked_malloc(sizeof(float) * (mask != nullptr ? 2 : 1) * Tq * Tk));
    if (ds == nullptr) return;
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t b = g / KV, kvh = g % KV;
      for (int64_t r = 0; r < group; ++r) {
        const int64_t h = kvh * group + r;
        const int64_t i = b * H + h;
        gqa_bwd_one(q + i * Tq * D, k + g * Tk * D, v + g * Tk * D, p + i * Tq * Tk, dout + i * Tq * D, dq + i * Tq * D,
                    dk + g * Tk * D, dv + g * Tk * D, ds, Tq, Tk, D, scale,
                    mask == nullptr ? nullptr : mask + i * Tq * Tk, keepScale, r > 0, head_shaping(shaping, h, i, Tq, Tk));
      }
    }
    std::free(ds);
  });
}

namespace {

// Rows [r0, r1) of rope: row r is position offset + r % T of head r / T.
void rope_rows(const float* x, const float* cosv, const float* sinv, float* y, int64_t r0, int64_t r1, int64_t T,
               int64_t hs, int64_t half, int64_t offset, float sign) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict xr = x + r * hs;
    float* __restrict yr = y + r * hs;
    const float* __restrict c = cosv + (offset + r % T) * half;
    const float* __restrict sn = sinv + (offset + r % T) * half;
#pragma omp simd
    for (int64_t i = 0; i < half; ++i) {
      const float x1 = xr[i], x2 = xr[half + i], si = sign * sn[i];
      yr[i] = x1 * c[i] - x2 * si;
      yr[half + i] = x2 * c[i] + x1 * si;
    }
    for (int64_t j = 2 * half; j < hs; ++j) yr[j] = xr[j];
  }
}

}  // namespace

void rope(const float* x, const float* cosv, const float* sinv, float* y, int64_t N, int64_t T, int64_t hs,
          int64_t half, int64_t offset, bool inverse) {
  const float sign = inverse ? -1.0f : 1.0f;
  par(N * T, parts_for(N * T * hs, kElementsPerPart),
      [&](int64_t r0, int64_t r1, int64_t) { rope_rows(x, cosv, sinv, y, r0, r1, T, hs, half, offset, sign); });
}

namespace {

void relu_grad_serial(const float* x, const float* dy, float* dx, int64_t n) {
  const float* __restrict xs = x;
  const float* __restrict g = dy;
  float* __restrict o = dx;
  // tfjs: dy * step(x), step(x) = x > 0 ? 1 : 0, NaN for NaN.
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = xs[i];
    const float st = v != v ? v : (v > 0.0f ? 1.0f : 0.0f);
    o[i] = g[i] * st;
  }
}

}  // namespace

void relu_grad(const float* x, const float* dy, float* dx, int64_t n) {
  par(n, parts_for(n, kElementsPerPart), [&](int64_t b, int64_t e, int64_t) { relu_grad_serial(x + b, dy + b, dx + b, e - b); });
}

void mha_attention_grad(const float* qkv, const float* p, const float* dout, float* dqkv, float* scratch, int64_t B,
                        int64_t T, int64_t H, int64_t D, float scale, const ScoreShaping& shaping) {
  const AttnLayout L = fused_heads(T, H, D);
  par(B * H, attention_parts(B * H, T, D), [&](int64_t i0, int64_t i1, int64_t part) {
    float* ds = part == 0 ? scratch : static_cast<float*>(checked_malloc(sizeof(float) * T * T));
    if (ds == nullptr) return;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* q = qkv + 3 * h * D;
      float* dq = dqkv + 3 * h * D;
      attention_bwd_one(q, q + D, q + 2 * D, p + h * T * T, dout + h * D, dq, dq + D, dq + 2 * D, ds, b, T, D, scale, L,
                        head_shaping(shaping, h, i, T, T));
    }
    if (ds != scratch) std::free(ds);
  });
}

}  // namespace bk

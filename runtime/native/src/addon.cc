// N-API bindings of the native backend's kernels (kernels.cc). Every function takes the tensors' own
// typed arrays (the cpu backend's storage, and outputs that backend.ts allocated) and works on them in
// place, without copies. Integer parameters come as numbers or, where there are many (shapes), in one
// Int32Array. Sizes are checked against the arrays' lengths so that a wrong call throws instead of
// writing past a buffer.
//
// This file is compiled for the baseline instruction set: the module's init checks that the CPU has
// what kernels.cc was compiled for, and refuses to load otherwise.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "kernels.h"

namespace {

// Whether the CPU has what kernels.cc was compiled for (AVX2 and FMA on x86-64). It lives here, in the
// baseline-compiled file: in kernels.cc the compiler may use AVX encodings even for this code.
bool cpu_supported() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return true;
#endif
}

constexpr size_t kMaxArgs = 16;

struct Args {
  napi_env env;
  size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs];
  bool failed = false;
};

bool load_args(napi_env env, napi_callback_info info, Args* a, size_t need) {
  a->env = env;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, nullptr, nullptr) != napi_ok) return false;
  if (a->argc < need) {
    napi_throw_type_error(env, nullptr, "babygpt native: too few arguments");
    return false;
  }
  return true;
}

void fail(Args* a, const char* msg) {
  if (!a->failed) napi_throw_error(a->env, nullptr, msg);
  a->failed = true;
}

// A typed array argument: its data pointer (byte offset applied) and element count.
struct View {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_float32_array;
};

bool is_null(Args* a, size_t i) {
  napi_valuetype t;
  if (napi_typeof(a->env, a->argv[i], &t) != napi_ok) return true;
  return t == napi_null || t == napi_undefined;
}

View view(Args* a, size_t i) {
  View v;
  if (a->failed) return v;
  bool ok = false;
  if (napi_is_typedarray(a->env, a->argv[i], &ok) != napi_ok || !ok) {
    fail(a, "babygpt native: expected a typed array");
    return v;
  }
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(a->env, a->argv[i], &v.type, &v.length, &v.data, &buffer, &offset) != napi_ok) {
    fail(a, "babygpt native: could not read a typed array");
  }
  return v;
}

float* f32(Args* a, size_t i, int64_t need) {
  View v = view(a, i);
  if (a->failed) return nullptr;
  if (v.type != napi_float32_array) fail(a, "babygpt native: expected a Float32Array");
  else if (static_cast<int64_t>(v.length) < need) fail(a, "babygpt native: Float32Array too short");
  return static_cast<float*>(v.data);
}

float* f32_or_null(Args* a, size_t i, int64_t need) { return is_null(a, i) ? nullptr : f32(a, i, need); }

int32_t* i32(Args* a, size_t i, int64_t need) {
  View v = view(a, i);
  if (a->failed) return nullptr;
  if (v.type != napi_int32_array) fail(a, "babygpt native: expected an Int32Array");
  else if (static_cast<int64_t>(v.length) < need) fail(a, "babygpt native: Int32Array too short");
  return static_cast<int32_t*>(v.data);
}

int32_t* i32_or_null(Args* a, size_t i, int64_t need) { return is_null(a, i) ? nullptr : i32(a, i, need); }

uint8_t* u8(Args* a, size_t i, int64_t need) {
  View v = view(a, i);
  if (a->failed) return nullptr;
  if (v.type != napi_uint8_array) fail(a, "babygpt native: expected a Uint8Array");
  else if (static_cast<int64_t>(v.length) < need) fail(a, "babygpt native: Uint8Array too short");
  return static_cast<uint8_t*>(v.data);
}

uint8_t* u8_or_null(Args* a, size_t i, int64_t need) { return is_null(a, i) ? nullptr : u8(a, i, need); }

double* f64(Args* a, size_t i, int64_t need) {
  View v = view(a, i);
  if (a->failed) return nullptr;
  if (v.type != napi_float64_array) fail(a, "babygpt native: expected a Float64Array");
  else if (static_cast<int64_t>(v.length) < need) fail(a, "babygpt native: Float64Array too short");
  return static_cast<double*>(v.data);
}

// A JavaScript array of Float32Arrays: each one's data and length, at most `max` of them.
int64_t f32_list(Args* a, size_t i, float** data, int64_t* sizes, int64_t max) {
  if (a->failed) return 0;
  bool isArray = false;
  uint32_t n = 0;
  if (napi_is_array(a->env, a->argv[i], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(a->env, a->argv[i], &n) != napi_ok) {
    fail(a, "babygpt native: expected an array of Float32Arrays");
    return 0;
  }
  if (n > max) {
    fail(a, "babygpt native: too many arrays");
    return 0;
  }
  for (uint32_t k = 0; k < n; ++k) {
    napi_value e;
    bool ok = false;
    napi_typedarray_type type;
    size_t length = 0, offset = 0;
    void* ptr = nullptr;
    napi_value buffer;
    if (napi_get_element(a->env, a->argv[i], k, &e) != napi_ok || napi_is_typedarray(a->env, e, &ok) != napi_ok || !ok ||
        napi_get_typedarray_info(a->env, e, &type, &length, &ptr, &buffer, &offset) != napi_ok ||
        type != napi_float32_array) {
      fail(a, "babygpt native: expected an array of Float32Arrays");
      return 0;
    }
    data[k] = static_cast<float*>(ptr);
    sizes[k] = static_cast<int64_t>(length);
  }
  return n;
}

// Any array of 4-byte elements (float32, int32, uint32): for the ops that only move data.
uint32_t* u32(Args* a, size_t i, int64_t need) {
  View v = view(a, i);
  if (a->failed) return nullptr;
  if (v.type != napi_float32_array && v.type != napi_int32_array && v.type != napi_uint32_array) {
    fail(a, "babygpt native: expected an array of 4-byte elements");
  } else if (static_cast<int64_t>(v.length) < need) {
    fail(a, "babygpt native: array too short");
  }
  return static_cast<uint32_t*>(v.data);
}

// Element count of a typed array argument.
int64_t length(Args* a, size_t i) {
  View v = view(a, i);
  return static_cast<int64_t>(v.length);
}

int64_t num(Args* a, size_t i) {
  if (a->failed) return 0;
  int64_t r = 0;
  if (napi_get_value_int64(a->env, a->argv[i], &r) != napi_ok) fail(a, "babygpt native: expected an integer");
  if (r < 0) fail(a, "babygpt native: negative size");
  return r;
}

double real(Args* a, size_t i) {
  if (a->failed) return 0;
  double r = 0;
  if (napi_get_value_double(a->env, a->argv[i], &r) != napi_ok) fail(a, "babygpt native: expected a number");
  return r;
}

bool flag(Args* a, size_t i) {
  if (a->failed) return false;
  bool r = false;
  if (napi_get_value_bool(a->env, a->argv[i], &r) != napi_ok) fail(a, "babygpt native: expected a boolean");
  return r;
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value number(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

int64_t product(const int32_t* dims, int32_t n) {
  int64_t p = 1;
  for (int32_t i = 0; i < n; ++i) p *= dims[i];
  return p;
}

// Reads the shape parameter block's leading rank and checks it.
int32_t rank_of(Args* a, const int32_t* p) {
  if (a->failed) return 0;
  if (p[0] < 0 || p[0] > bk::kMaxRank) fail(a, "babygpt native: rank out of range");
  return p[0];
}

#define BEGIN(n)                     \
  Args a;                            \
  if (!load_args(env, info, &a, n)) return nullptr;
#define END()                   \
  if (a.failed) return nullptr; \
  return undefined(env);

// unary(op, x, out, alpha)
napi_value Unary(napi_env env, napi_callback_info info) {
  BEGIN(4);
  const int64_t op = num(&a, 0);
  const int64_t n = length(&a, 2);
  const float* x = f32(&a, 1, n);
  float* out = f32(&a, 2, n);
  const float alpha = static_cast<float>(real(&a, 3));
  if (op >= bk::kNumUnary) fail(&a, "babygpt native: unknown unary op");
  if (!a.failed) bk::unary(static_cast<int32_t>(op), x, out, n, alpha);
  END();
}

// binary(op, a, b, out, params): params = [rank, outShape[rank], aShape[rank], bShape[rank]]
napi_value Binary(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t op = num(&a, 0);
  const int32_t* p = i32(&a, 4, 1);
  const int32_t rank = rank_of(&a, p);
  p = i32(&a, 4, 1 + 3 * rank);
  if (a.failed) return nullptr;
  const int32_t* outShape = p + 1;
  const int32_t* aShape = outShape + rank;
  const int32_t* bShape = aShape + rank;
  for (int32_t d = 0; d < rank; ++d) {
    if ((aShape[d] != 1 && aShape[d] != outShape[d]) || (bShape[d] != 1 && bShape[d] != outShape[d]))
      fail(&a, "babygpt native: shapes do not broadcast");
  }
  const float* x = f32(&a, 1, product(aShape, rank));
  const float* y = f32(&a, 2, product(bShape, rank));
  float* out = f32(&a, 3, product(outShape, rank));
  if (op >= bk::kNumBinary) fail(&a, "babygpt native: unknown binary op");
  if (!a.failed && product(outShape, rank) > 0)
    bk::binary(static_cast<int32_t>(op), x, y, out, rank, outShape, aShape, bShape);
  END();
}

// reduce(op, x, out, outer, mid, inner)
napi_value Reduce(napi_env env, napi_callback_info info) {
  BEGIN(6);
  const int64_t op = num(&a, 0);
  const int64_t outer = num(&a, 3), mid = num(&a, 4), inner = num(&a, 5);
  const float* x = f32(&a, 1, outer * mid * inner);
  float* out = f32(&a, 2, outer * inner);
  if (op >= bk::kNumReduce) fail(&a, "babygpt native: unknown reduction");
  if (!a.failed) bk::reduce(static_cast<int32_t>(op), x, out, outer, mid, inner);
  END();
}

// argReduce(isMax, x, out, outer, mid, inner)
napi_value ArgReduce(napi_env env, napi_callback_info info) {
  BEGIN(6);
  const bool isMax = flag(&a, 0);
  const int64_t outer = num(&a, 3), mid = num(&a, 4), inner = num(&a, 5);
  const float* x = f32(&a, 1, outer * mid * inner);
  int32_t* out = i32(&a, 2, outer * inner);
  if (mid == 0) fail(&a, "babygpt native: arg reduction over an empty axis");
  if (!a.failed) bk::arg_reduce(isMax, x, out, outer, mid, inner);
  END();
}

// softmax(x, out, rows, cols, log)
napi_value Softmax(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t rows = num(&a, 2), cols = num(&a, 3);
  const float* x = f32(&a, 0, rows * cols);
  float* out = f32(&a, 1, rows * cols);
  const bool log = flag(&a, 4);
  if (!a.failed) bk::softmax(x, out, rows, cols, log);
  END();
}

// softmaxGrad(y, dy, dx, rows, cols)
napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t rows = num(&a, 3), cols = num(&a, 4);
  const float* y = f32(&a, 0, rows * cols);
  const float* dy = f32(&a, 1, rows * cols);
  float* dx = f32(&a, 2, rows * cols);
  if (!a.failed) bk::softmax_grad(y, dy, dx, rows, cols);
  END();
}

// matmul(a, b, c, bias|null, aIdx|null, bIdx|null, params, alpha)
// params = [batch, aCount, bCount, M, N, K, transA, transB, act, accumulate]
napi_value MatMul(napi_env env, napi_callback_info info) {
  BEGIN(8);
  const int32_t* p = i32(&a, 6, 10);
  if (a.failed) return nullptr;
  const int64_t batch = p[0], aCount = p[1], bCount = p[2], M = p[3], N = p[4], K = p[5];
  const bool transA = p[6] != 0, transB = p[7] != 0, accumulate = p[9] != 0;
  const int32_t act = p[8];
  if (batch < 0 || aCount < 1 || bCount < 1 || M < 0 || N < 0 || K < 0)
    fail(&a, "babygpt native: bad matmul sizes");
  const float* x = f32(&a, 0, aCount * M * K);
  const float* y = f32(&a, 1, bCount * K * N);
  float* c = f32(&a, 2, batch * M * N);
  const float* bias = f32_or_null(&a, 3, N);
  const int32_t* aIdx = i32_or_null(&a, 4, batch);
  const int32_t* bIdx = i32_or_null(&a, 5, batch);
  const float alpha = static_cast<float>(real(&a, 7));
  if (!a.failed) {
    // Out-of-range batch indices would read past the inputs.
    for (int64_t i = 0; i < batch; ++i) {
      if ((aIdx && (aIdx[i] < 0 || aIdx[i] >= aCount)) || (bIdx && (bIdx[i] < 0 || bIdx[i] >= bCount))) {
        fail(&a, "babygpt native: batch index out of range");
        break;
      }
    }
    if (!aIdx && aCount != 1 && aCount != batch) fail(&a, "babygpt native: batch count mismatch");
    if (!bIdx && bCount != 1 && bCount != batch) fail(&a, "babygpt native: batch count mismatch");
  }
  if (!a.failed)
    bk::matmul(x, y, c, bias, batch, aCount, bCount, aIdx, bIdx, M, N, K, transA, transB, act, alpha, accumulate);
  END();
}

// activation(act, x, alpha): in place
napi_value Activation(napi_env env, napi_callback_info info) {
  BEGIN(3);
  const int64_t act = num(&a, 0);
  const int64_t n = length(&a, 1);
  float* x = f32(&a, 1, n);
  const float alpha = static_cast<float>(real(&a, 2));
  if (!a.failed) bk::activation(static_cast<int32_t>(act), x, n, alpha);
  END();
}

// copyRegion(src, dst, params): params = [rank, size, srcShape, srcBegin, dstShape, dstBegin] (rank each)
napi_value CopyRegion(napi_env env, napi_callback_info info) {
  BEGIN(3);
  const int32_t* p = i32(&a, 2, 1);
  const int32_t rank = rank_of(&a, p);
  p = i32(&a, 2, 1 + 5 * rank);
  if (a.failed) return nullptr;
  const int32_t* size = p + 1;
  const int32_t* srcShape = size + rank;
  const int32_t* srcBegin = srcShape + rank;
  const int32_t* dstShape = srcBegin + rank;
  const int32_t* dstBegin = dstShape + rank;
  for (int32_t d = 0; d < rank; ++d) {
    if (size[d] < 0 || srcBegin[d] < 0 || dstBegin[d] < 0 || srcBegin[d] + size[d] > srcShape[d] ||
        dstBegin[d] + size[d] > dstShape[d])
      fail(&a, "babygpt native: region out of bounds");
  }
  const uint32_t* src = u32(&a, 0, product(srcShape, rank));
  uint32_t* dst = u32(&a, 1, product(dstShape, rank));
  if (!a.failed) bk::copy_region(src, dst, rank, size, srcShape, srcBegin, dstShape, dstBegin);
  END();
}

// transpose(x, out, params): params = [rank, shape[rank], perm[rank]]
napi_value Transpose(napi_env env, napi_callback_info info) {
  BEGIN(3);
  const int32_t* p = i32(&a, 2, 1);
  const int32_t rank = rank_of(&a, p);
  p = i32(&a, 2, 1 + 2 * rank);
  if (a.failed) return nullptr;
  const int32_t* shape = p + 1;
  const int32_t* perm = shape + rank;
  int seen = 0;
  for (int32_t d = 0; d < rank; ++d) {
    if (perm[d] < 0 || perm[d] >= rank || (seen & (1 << perm[d]))) fail(&a, "babygpt native: bad permutation");
    else seen |= 1 << perm[d];
  }
  const int64_t n = product(shape, rank);
  const uint32_t* x = u32(&a, 0, n);
  uint32_t* out = u32(&a, 1, n);
  if (!a.failed) bk::transpose(x, out, rank, shape, perm);
  END();
}

// gather(x, idx, out, outer, axisDim, inner) -> -1, or the position of the first out-of-range index
napi_value Gather(napi_env env, napi_callback_info info) {
  BEGIN(6);
  const int64_t outer = num(&a, 3), axisDim = num(&a, 4), inner = num(&a, 5);
  const int64_t n = length(&a, 1);
  const uint32_t* x = u32(&a, 0, outer * axisDim * inner);
  const int32_t* idx = i32(&a, 1, n);
  uint32_t* out = u32(&a, 2, outer * n * inner);
  if (a.failed) return nullptr;
  return number(env, static_cast<double>(bk::gather(x, idx, out, outer, axisDim, inner, n)));
}

// segmentSum(x, ids, out, inner, numSegments)
napi_value SegmentSum(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t inner = num(&a, 3), numSegments = num(&a, 4);
  const int64_t rows = length(&a, 1);
  const float* x = f32(&a, 0, rows * inner);
  const int32_t* ids = i32(&a, 1, rows);
  float* out = f32(&a, 2, numSegments * inner);
  if (!a.failed) bk::unsorted_segment_sum(x, ids, out, rows, inner, numSegments);
  END();
}

// oneHot(idx, out, depth, on, off)
napi_value OneHot(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t depth = num(&a, 2);
  const int64_t n = length(&a, 0);
  const int32_t* idx = i32(&a, 0, n);
  float* out = f32(&a, 1, n * depth);
  const float on = static_cast<float>(real(&a, 3)), off = static_cast<float>(real(&a, 4));
  if (!a.failed) bk::one_hot(idx, out, n, depth, on, off);
  END();
}

// fill(out, value)
napi_value Fill(napi_env env, napi_callback_info info) {
  BEGIN(2);
  const int64_t n = length(&a, 0);
  float* out = f32(&a, 0, n);
  const float value = static_cast<float>(real(&a, 1));
  if (!a.failed) bk::fill(out, n, value);
  END();
}

// colSum(x, out, cols, accumulate)
napi_value ColSum(napi_env env, napi_callback_info info) {
  BEGIN(4);
  const int64_t cols = num(&a, 2);
  const int64_t n = length(&a, 0);
  if (cols == 0 || n % cols != 0) fail(&a, "babygpt native: colSum size mismatch");
  const float* x = f32(&a, 0, n);
  float* out = f32(&a, 1, cols);
  const bool accumulate = flag(&a, 3);
  if (!a.failed) bk::col_sum(x, out, n / cols, cols, accumulate);
  END();
}

// layerNorm(x, gamma, beta, y, mean, rstd, C, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  BEGIN(8);
  const int64_t C = num(&a, 6);
  const int64_t n = length(&a, 0);
  if (C == 0 || n % C != 0) fail(&a, "babygpt native: layerNorm size mismatch");
  const int64_t rows = C ? n / C : 0;
  const float* x = f32(&a, 0, n);
  const float* gamma = f32(&a, 1, C);
  const float* beta = f32(&a, 2, C);
  float* y = f32(&a, 3, n);
  float* mean = f32(&a, 4, rows);
  float* rstd = f32(&a, 5, rows);
  const float eps = static_cast<float>(real(&a, 7));
  if (!a.failed) bk::layer_norm(x, gamma, beta, y, mean, rstd, rows, C, eps);
  END();
}

// layerNormGrad(x, gamma, mean, rstd, dy, dx|null, dgamma|null, dbeta|null, C)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  BEGIN(9);
  const int64_t C = num(&a, 8);
  const int64_t n = length(&a, 0);
  if (C == 0 || n % C != 0) fail(&a, "babygpt native: layerNormGrad size mismatch");
  const int64_t rows = C ? n / C : 0;
  const float* x = f32(&a, 0, n);
  const float* gamma = f32(&a, 1, C);
  const float* mean = f32(&a, 2, rows);
  const float* rstd = f32(&a, 3, rows);
  const float* dy = f32(&a, 4, n);
  float* dx = f32_or_null(&a, 5, n);
  float* dgamma = f32_or_null(&a, 6, C);
  float* dbeta = f32_or_null(&a, 7, C);
  if (!a.failed) bk::layer_norm_grad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, C);
  END();
}

// geluGrad(x, dy, dx)
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  BEGIN(3);
  const int64_t n = length(&a, 0);
  const float* x = f32(&a, 0, n);
  const float* dy = f32(&a, 1, n);
  float* dx = f32(&a, 2, n);
  if (!a.failed) bk::gelu_grad(x, dy, dx, n);
  END();
}

// crossEntropy(logits, targets, probs, V) -> mean loss
napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  BEGIN(4);
  const int64_t V = num(&a, 3);
  const int64_t rows = length(&a, 1);
  const float* logits = f32(&a, 0, rows * V);
  const int32_t* targets = i32(&a, 1, rows);
  float* probs = f32(&a, 2, rows * V);
  if (a.failed) return nullptr;
  return number(env, bk::cross_entropy(logits, targets, probs, rows, V));
}

// crossEntropyGrad(probs, targets, dlogits, V, scale)
napi_value CrossEntropyGrad(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t V = num(&a, 3);
  const int64_t rows = length(&a, 1);
  const float* probs = f32(&a, 0, rows * V);
  const int32_t* targets = i32(&a, 1, rows);
  float* dlogits = f32(&a, 2, rows * V);
  const float scale = static_cast<float>(real(&a, 4));
  if (!a.failed) bk::cross_entropy_grad(probs, targets, dlogits, rows, V, scale);
  END();
}

// attention(q, k, v, out, p, B, T, D, scale)
napi_value Attention(napi_env env, napi_callback_info info) {
  BEGIN(9);
  const int64_t B = num(&a, 5), T = num(&a, 6), D = num(&a, 7);
  const float* q = f32(&a, 0, B * T * D);
  const float* k = f32(&a, 1, B * T * D);
  const float* v = f32(&a, 2, B * T * D);
  float* out = f32(&a, 3, B * T * D);
  float* p = f32(&a, 4, B * T * T);
  const float scale = static_cast<float>(real(&a, 8));
  if (!a.failed && B * T * D > 0) bk::attention(q, k, v, out, p, B, T, D, scale);
  END();
}

// attentionGrad(q, k, v, p, dout, dq, dk, dv, scratch, B, T, D, scale)
napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  BEGIN(13);
  const int64_t B = num(&a, 9), T = num(&a, 10), D = num(&a, 11);
  const int64_t n = B * T * D;
  const float* q = f32(&a, 0, n);
  const float* k = f32(&a, 1, n);
  const float* v = f32(&a, 2, n);
  const float* p = f32(&a, 3, B * T * T);
  const float* dout = f32(&a, 4, n);
  float* dq = f32(&a, 5, n);
  float* dk = f32(&a, 6, n);
  float* dv = f32(&a, 7, n);
  float* scratch = f32(&a, 8, T * T);
  const float scale = static_cast<float>(real(&a, 12));
  if (!a.failed && n > 0) bk::attention_grad(q, k, v, p, dout, dq, dk, dv, scratch, B, T, D, scale);
  END();
}

// mhaAttentionDropout(qkv, out, p, mask|null, keep, B, T, H, D, scale)
napi_value MhaAttentionDropout(napi_env env, napi_callback_info info) {
  BEGIN(10);
  const int64_t B = num(&a, 5), T = num(&a, 6), H = num(&a, 7), D = num(&a, 8);
  const float* qkv = f32(&a, 0, B * T * 3 * H * D);
  float* out = f32(&a, 1, B * T * H * D);
  float* p = f32(&a, 2, B * H * T * T);
  const uint8_t* mask = u8_or_null(&a, 3, B * H * T * T);
  const float keep = static_cast<float>(real(&a, 4));
  const float scale = static_cast<float>(real(&a, 9));
  if (!a.failed && !(keep > 0.0f && keep <= 1.0f)) fail(&a, "babygpt native: keep probability out of (0, 1]");
  if (!a.failed && B * T * H * D > 0) bk::mha_attention_dropout(qkv, out, p, mask, keep, B, T, H, D, scale);
  END();
}

// mhaAttentionDropoutGrad(qkv, p, mask|null, keep, dout, dqkv, scratch, B, T, H, D, scale)
napi_value MhaAttentionDropoutGrad(napi_env env, napi_callback_info info) {
  BEGIN(12);
  const int64_t B = num(&a, 7), T = num(&a, 8), H = num(&a, 9), D = num(&a, 10);
  const float* qkv = f32(&a, 0, B * T * 3 * H * D);
  const float* p = f32(&a, 1, B * H * T * T);
  const uint8_t* mask = u8_or_null(&a, 2, B * H * T * T);
  const float keep = static_cast<float>(real(&a, 3));
  const float* dout = f32(&a, 4, B * T * H * D);
  float* dqkv = f32(&a, 5, B * T * 3 * H * D);
  float* scratch = f32(&a, 6, T * T);
  const float scale = static_cast<float>(real(&a, 11));
  if (!a.failed && !(keep > 0.0f && keep <= 1.0f)) fail(&a, "babygpt native: keep probability out of (0, 1]");
  if (!a.failed && B * T * H * D > 0)
    bk::mha_attention_dropout_grad(qkv, p, mask, keep, dout, dqkv, scratch, B, T, H, D, scale);
  END();
}

// headDropoutMasks(seeds, mask, B, H, T, keep): seeds a Float64Array of H
napi_value HeadDropoutMasks(napi_env env, napi_callback_info info) {
  BEGIN(6);
  const int64_t B = num(&a, 2), H = num(&a, 3), T = num(&a, 4);
  const double* seeds = f64(&a, 0, H);
  uint8_t* mask = u8(&a, 1, B * H * T * T);
  const float keep = static_cast<float>(real(&a, 5));
  if (!a.failed) bk::head_dropout_masks(seeds, mask, B, H, T, keep);
  END();
}

// dropout(x, y, mask, seed, keep)
napi_value Dropout(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const int64_t n = length(&a, 0);
  const float* x = f32(&a, 0, n);
  float* y = f32(&a, 1, n);
  uint8_t* mask = u8(&a, 2, n);
  const double seed = real(&a, 3);
  const float keep = static_cast<float>(real(&a, 4));
  if (!a.failed && !(keep > 0.0f && keep <= 1.0f)) fail(&a, "babygpt native: keep probability out of (0, 1]");
  if (!a.failed) bk::dropout(x, y, mask, n, seed, keep);
  END();
}

// dropoutGrad(dy, mask, dx, keep)
napi_value DropoutGrad(napi_env env, napi_callback_info info) {
  BEGIN(4);
  const int64_t n = length(&a, 0);
  const float* dy = f32(&a, 0, n);
  const uint8_t* mask = u8(&a, 1, n);
  float* dx = f32(&a, 2, n);
  const float keep = static_cast<float>(real(&a, 3));
  if (!a.failed && !(keep > 0.0f && keep <= 1.0f)) fail(&a, "babygpt native: keep probability out of (0, 1]");
  if (!a.failed) bk::dropout_grad(dy, mask, dx, n, keep);
  END();
}

// aleaFill(seed, out): tf.randomUniform(shape, 0, 1, 'float32', seed)'s values
napi_value AleaFill(napi_env env, napi_callback_info info) {
  BEGIN(2);
  const double seed = real(&a, 0);
  const int64_t n = length(&a, 1);
  float* out = f32(&a, 1, n);
  if (a.failed) return nullptr;
  bk::AleaState st;
  bk::alea_init(seed, &st);
  bk::alea_fill(&st, out, n);
  END();
}

// reluGrad(x, dy, dx)
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  BEGIN(3);
  const int64_t n = length(&a, 0);
  const float* x = f32(&a, 0, n);
  const float* dy = f32(&a, 1, n);
  float* dx = f32(&a, 2, n);
  if (!a.failed) bk::relu_grad(x, dy, dx, n);
  END();
}

constexpr int64_t kMaxParams = 1 << 16;

// optimizerStep(config, params, grads, m|null, v|null): config a Float64Array of [type (0 sgd, 1 adam),
// decoupled, scaled, lr, b1, 1 - b1, b2, 1 - b2, sqrt(bc2), eps, lr / bc1, 1 - lr * wd, gradScale]
napi_value OptimizerStep(napi_env env, napi_callback_info info) {
  BEGIN(5);
  const double* c = f64(&a, 0, 13);
  if (a.failed) return nullptr;
  bk::OptimConfig cfg;
  cfg.type = c[0] != 0 ? 1 : 0;
  cfg.decoupled = c[1] != 0;
  cfg.scaled = c[2] != 0;
  cfg.lr = static_cast<float>(c[3]);
  cfg.b1 = static_cast<float>(c[4]);
  cfg.oneMinusB1 = static_cast<float>(c[5]);
  cfg.b2 = static_cast<float>(c[6]);
  cfg.oneMinusB2 = static_cast<float>(c[7]);
  cfg.sqrtBc2 = static_cast<float>(c[8]);
  cfg.eps = static_cast<float>(c[9]);
  cfg.stepSize = static_cast<float>(c[10]);
  cfg.decay = static_cast<float>(c[11]);
  cfg.gradScale = static_cast<float>(c[12]);
  uint32_t count = 0;
  if (napi_get_array_length(env, a.argv[1], &count) != napi_ok || count > kMaxParams) {
    fail(&a, "babygpt native: expected an array of parameters");
    return nullptr;
  }
  const size_t n = count > 0 ? count : 1;
  float** lists = static_cast<float**>(std::malloc(sizeof(float*) * n * 4));
  int64_t* sizes = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * n * 4));
  float** p = lists;
  float** g = lists + n;
  float** m = lists + 2 * n;
  float** v = lists + 3 * n;
  const int64_t np = f32_list(&a, 1, p, sizes, count);
  const int64_t ng = f32_list(&a, 2, g, sizes + n, count);
  int64_t nm = np, nv = np;
  if (cfg.type == 1) {
    nm = f32_list(&a, 3, m, sizes + 2 * n, count);
    nv = f32_list(&a, 4, v, sizes + 3 * n, count);
  }
  if (!a.failed && (np != count || ng != count || nm != count || nv != count)) fail(&a, "babygpt native: list lengths differ");
  for (uint32_t k = 0; !a.failed && k < count; ++k) {
    if (sizes[n + k] != sizes[k] || (cfg.type == 1 && (sizes[2 * n + k] != sizes[k] || sizes[3 * n + k] != sizes[k])))
      fail(&a, "babygpt native: a gradient or moment differs in size from its parameter");
  }
  if (!a.failed) bk::optimizer_step(cfg, count, p, g, m, v, sizes);
  std::free(lists);
  std::free(sizes);
  END();
}

// sumSquares(arrays, out): out[k] = float32 sum of arrays[k]'s squares
napi_value SumSquares(napi_env env, napi_callback_info info) {
  BEGIN(2);
  uint32_t count = 0;
  if (napi_get_array_length(env, a.argv[0], &count) != napi_ok || count > kMaxParams) {
    fail(&a, "babygpt native: expected an array of Float32Arrays");
    return nullptr;
  }
  const size_t n = count > 0 ? count : 1;
  float** x = static_cast<float**>(std::malloc(sizeof(float*) * n));
  int64_t* sizes = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * n));
  f32_list(&a, 0, x, sizes, count);
  float* out = f32(&a, 1, count);
  if (!a.failed) bk::sum_squares(count, x, sizes, out);
  std::free(x);
  std::free(sizes);
  END();
}

// setThreads(n): the kernels' threads (0 leaves the count); returns the count in effect.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  BEGIN(1);
  const int64_t n = num(&a, 0);
  if (a.failed) return nullptr;
  bk::set_blas_threads(static_cast<int>(n));
  return number(env, bk::get_blas_threads());
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value s;
  napi_create_string_utf8(env, bk::blas_info(), NAPI_AUTO_LENGTH, &s);
  return s;
}

// Bumped whenever a function is added or changes its arguments; addon.ts refuses an addon built from
// other sources (a stale build/ after a failed rebuild, say).
constexpr int32_t kAbi = 3;

napi_value Init(napi_env env, napi_value exports) {
  if (!cpu_supported()) {
    napi_throw_error(env, nullptr, "babygpt native: this CPU lacks AVX2/FMA, which the addon was built for");
    return nullptr;
  }
  bk::init_threads();
  struct Fn {
    const char* name;
    napi_callback cb;
  };
  const Fn fns[] = {
      {"unary", Unary},
      {"binary", Binary},
      {"reduce", Reduce},
      {"argReduce", ArgReduce},
      {"softmax", Softmax},
      {"softmaxGrad", SoftmaxGrad},
      {"matmul", MatMul},
      {"activation", Activation},
      {"copyRegion", CopyRegion},
      {"transpose", Transpose},
      {"gather", Gather},
      {"segmentSum", SegmentSum},
      {"oneHot", OneHot},
      {"fill", Fill},
      {"colSum", ColSum},
      {"layerNorm", LayerNorm},
      {"layerNormGrad", LayerNormGrad},
      {"geluGrad", GeluGrad},
      {"crossEntropy", CrossEntropy},
      {"crossEntropyGrad", CrossEntropyGrad},
      {"attention", Attention},
      {"attentionGrad", AttentionGrad},
      {"mhaAttentionDropout", MhaAttentionDropout},
      {"mhaAttentionDropoutGrad", MhaAttentionDropoutGrad},
      {"headDropoutMasks", HeadDropoutMasks},
      {"dropout", Dropout},
      {"dropoutGrad", DropoutGrad},
      {"aleaFill", AleaFill},
      {"reluGrad", ReluGrad},
      {"optimizerStep", OptimizerStep},
      {"sumSquares", SumSquares},
      {"setThreads", SetThreads},
      {"info", Info},
  };
  for (const Fn& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return nullptr;
  }
  napi_value abi;
  if (napi_create_int32(env, kAbi, &abi) != napi_ok) return nullptr;
  if (napi_set_named_property(env, exports, "abi", abi) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }

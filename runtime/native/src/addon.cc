// N-API bindings of the native backend's kernels (kernels.cc). Every function takes the tensors' own
// typed arrays (the cpu backend's storage, and outputs that backend.ts allocated) and works on them in
// place, without copies. Integer parameters come as numbers or, where there are many (shapes), in one
// Int32Array.
//
// This is where the shapes arrive, so this is where they are checked: every array must have exactly the
// length its operands' shapes give (the logits of a cross-entropy exactly targets x V, attention's qkv,
// dout and weights exactly what [B, T, H, D] gives, a bias exactly N), sizes are whole numbers whose products cannot overflow, and a
// kernel whose scratch memory could not be allocated reports it. Each problem is a JavaScript Error
// "babygpt native: <op>: <what, with the shapes>", thrown before anything is read or written.
//
// This file is compiled for the baseline instruction set: the module's init checks that the CPU has
// what kernels.cc was compiled for, and refuses to load otherwise.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "decode.h"
#include "gemm.h"

#include "kernels.h"

namespace {

// Whether the CPU has what kernels.cc was compiled for (AVX2 and FMA on x86-64, where build.mjs chose
// x86-64-v3). It lives here, in the baseline-compiled file: in kernels.cc the compiler may use AVX
// encodings even for this code.
bool cpu_supported() {
#if defined(BK_KERNELS_V3) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return true;
#endif
}

constexpr size_t kMaxArgs = 16;

// One call's arguments and the op's name, for error messages.
struct Args {
  napi_env env;
  const char* op;
  size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs];
  bool failed = false;
};

// Throws "babygpt native: <op>: <message>" (once per call: the first problem found is the one reported).
void fail(Args* a, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void fail(Args* a, const char* fmt, ...) {
  if (a->failed) return;
  a->failed = true;
  char msg[400];
  int n = std::snprintf(msg, sizeof msg, "babygpt native: %s: ", a->op);
  if (n < 0) n = 0;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg + n, sizeof msg - static_cast<size_t>(n), fmt, ap);
  va_end(ap);
  napi_throw_error(a->env, nullptr, msg);
}

bool load_args(napi_env env, napi_callback_info info, Args* a, const char* op, size_t need) {
  a->env = env;
  a->op = op;
  if (napi_get_cb_info(env, info, &a->argc, a->argv, nullptr, nullptr) != napi_ok) return false;
  if (a->argc < need) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "babygpt native: %s: expected %zu arguments, got %zu", op, need, a->argc);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  bk::take_out_of_memory();  // a flag left by an earlier call that failed before it was read
  return true;
}

// A typed array argument: its data pointer (byte offset applied) and element count.
struct View {
  void* data = nullptr;
  int64_t length = 0;
  napi_typedarray_type type = napi_float32_array;
};

bool is_null(Args* a, size_t i) {
  napi_valuetype t;
  if (napi_typeof(a->env, a->argv[i], &t) != napi_ok) return true;
  return t == napi_null || t == napi_undefined;
}

const char* type_name(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_float64_array: return "Float64Array";
    default: return "another typed array";
  }
}

View view(Args* a, size_t i, const char* name) {
  View v;
  if (a->failed) return v;
  bool ok = false;
  if (napi_is_typedarray(a->env, a->argv[i], &ok) != napi_ok || !ok) {
    fail(a, "%s is not a typed array", name);
    return v;
  }
  napi_value buffer;
  size_t offset, length;
  if (napi_get_typedarray_info(a->env, a->argv[i], &v.type, &length, &v.data, &buffer, &offset) != napi_ok) {
    fail(a, "could not read %s", name);
  }
  v.length = static_cast<int64_t>(length);
  return v;
}

// A typed array of the given type with exactly `need` elements (need < 0: a size that already failed).
void* typed(Args* a, size_t i, int64_t need, const char* name, napi_typedarray_type type) {
  View v = view(a, i, name);
  if (a->failed || need < 0) return nullptr;
  if (v.type != type) fail(a, "%s is a %s, expected a %s", name, type_name(v.type), type_name(type));
  else if (v.length != need) fail(a, "%s has %lld elements, expected %lld", name, static_cast<long long>(v.length), static_cast<long long>(need));
  return v.data;
}

float* f32(Args* a, size_t i, int64_t need, const char* name) { return static_cast<float*>(typed(a, i, need, name, napi_float32_array)); }
int32_t* i32(Args* a, size_t i, int64_t need, const char* name) { return static_cast<int32_t*>(typed(a, i, need, name, napi_int32_array)); }
uint8_t* u8(Args* a, size_t i, int64_t need, const char* name) { return static_cast<uint8_t*>(typed(a, i, need, name, napi_uint8_array)); }
double* f64(Args* a, size_t i, int64_t need, const char* name) { return static_cast<double*>(typed(a, i, need, name, napi_float64_array)); }

// An Int32Array of parameters (shapes and flags) of at least `need` entries; its length for `have`.
int32_t* params(Args* a, size_t i, int64_t need, int64_t* have = nullptr) {
  View v = view(a, i, "params");
  if (a->failed) return nullptr;
  if (v.type != napi_int32_array) fail(a, "params is a %s, expected an Int32Array", type_name(v.type));
  else if (v.length < need) fail(a, "params has %lld entries, expected %lld", static_cast<long long>(v.length), static_cast<long long>(need));
  if (have != nullptr) *have = v.length;
  return static_cast<int32_t*>(v.data);
}

// A JavaScript array of Float32Arrays: each one's data and length, at most `max` of them.
int64_t f32_list(Args* a, size_t i, float** data, int64_t* sizes, int64_t max, const char* name) {
  if (a->failed) return 0;
  bool isArray = false;
  uint32_t n = 0;
  if (napi_is_array(a->env, a->argv[i], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(a->env, a->argv[i], &n) != napi_ok) {
    fail(a, "%s is not an array of Float32Arrays", name);
    return 0;
  }
  if (n > max) {
    fail(a, "%s has %u arrays, expected %lld", name, n, static_cast<long long>(max));
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
      fail(a, "%s[%u] is not a Float32Array", name, k);
      return 0;
    }
    data[k] = static_cast<float*>(ptr);
    sizes[k] = static_cast<int64_t>(length);
  }
  return n;
}

// Any array of 4-byte elements (float32, int32, uint32) of exactly `need`: for the ops that only move data.
uint32_t* u32(Args* a, size_t i, int64_t need, const char* name) {
  View v = view(a, i, name);
  if (a->failed || need < 0) return nullptr;
  if (v.type != napi_float32_array && v.type != napi_int32_array && v.type != napi_uint32_array) {
    fail(a, "%s is a %s, expected an array of 4-byte elements", name, type_name(v.type));
  } else if (v.length != need) {
    fail(a, "%s has %lld elements, expected %lld", name, static_cast<long long>(v.length), static_cast<long long>(need));
  }
  return static_cast<uint32_t*>(v.data);
}

// The data-movement ops copy words of any 4-byte type, but never from one type into another.
void same_type(Args* a, size_t i, size_t j, const char* from, const char* to) {
  if (a->failed) return;
  View x = view(a, i, from), y = view(a, j, to);
  if (!a->failed && x.type != y.type) fail(a, "%s is a %s, but %s is a %s", to, type_name(y.type), from, type_name(x.type));
}

// Element count of a typed array argument.
int64_t length(Args* a, size_t i, const char* name) {
  View v = view(a, i, name);
  return v.length;
}

// Sizes past this are refused before any arithmetic on them: no array is that long, and products of a
// few of them stay far from overflowing 64 bits.
constexpr int64_t kMaxSize = int64_t{1} << 40;

// A size or count: a whole number from 0 to 2^40.
int64_t num(Args* a, size_t i, const char* name) {
  if (a->failed) return 0;
  double d = 0;
  if (napi_get_value_double(a->env, a->argv[i], &d) != napi_ok) {
    fail(a, "%s is not a number", name);
    return 0;
  }
  if (!(d >= 0 && d <= static_cast<double>(kMaxSize)) || d != static_cast<double>(static_cast<int64_t>(d))) {
    fail(a, "%s is %g, expected a whole number from 0 to 2^40", name, d);
    return 0;
  }
  return static_cast<int64_t>(d);
}

// x * y for sizes, failing instead of overflowing (returns -1 then, or when a call already failed).
int64_t mul(Args* a, int64_t x, int64_t y) {
  if (a->failed || x < 0 || y < 0) return -1;
  int64_t r;
  if (__builtin_mul_overflow(x, y, &r) || r > kMaxSize * 1024) {
    fail(a, "sizes too large (%lld x %lld)", static_cast<long long>(x), static_cast<long long>(y));
    return -1;
  }
  return r;
}

int64_t mul(Args* a, int64_t x, int64_t y, int64_t z) { return mul(a, mul(a, x, y), z); }
int64_t mul(Args* a, int64_t x, int64_t y, int64_t z, int64_t w) { return mul(a, mul(a, x, y, z), w); }

double real(Args* a, size_t i, const char* name) {
  if (a->failed) return 0;
  double r = 0;
  if (napi_get_value_double(a->env, a->argv[i], &r) != napi_ok) fail(a, "%s is not a number", name);
  return r;
}

bool flag(Args* a, size_t i, const char* name) {
  if (a->failed) return false;
  bool r = false;
  if (napi_get_value_bool(a->env, a->argv[i], &r) != napi_ok) fail(a, "%s is not a boolean", name);
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

// The element count of a shape, every dimension checked to be 0 or more (-1 when it failed).
int64_t product(Args* a, const int32_t* dims, int32_t n, const char* name) {
  int64_t p = 1;
  for (int32_t i = 0; i < n; ++i) {
    if (dims[i] < 0) {
      fail(a, "%s has a negative dimension (%d)", name, dims[i]);
      return -1;
    }
    p = mul(a, p, dims[i]);
  }
  return p;
}

// Reads the shape parameter block's leading rank and checks it.
int32_t rank_of(Args* a, const int32_t* p) {
  if (a->failed) return 0;
  if (p[0] < 0 || p[0] > bk::kMaxRank) fail(a, "rank %d out of range (0 to %d)", p[0], bk::kMaxRank);
  return a->failed ? 0 : p[0];
}

// A shape for messages: "[2, 3, 4]".
struct ShapeText {
  char text[96];
  explicit ShapeText(std::initializer_list<int64_t> dims) {
    size_t n = 0;
    text[n++] = '[';
    bool first = true;
    for (int64_t d : dims) {
      const int w = std::snprintf(text + n, sizeof text - n, "%s%lld", first ? "" : ", ", static_cast<long long>(d));
      if (w < 0 || static_cast<size_t>(w) >= sizeof text - n - 2) break;
      n += static_cast<size_t>(w);
      first = false;
    }
    text[n++] = ']';
    text[n] = '\0';
  }
};

// An operand that must have exactly `need` elements because of the other operands' shapes: the message
// says what it has and which shape asks for it.
template <typename T>
T* operand(Args* a, T* (*get)(Args*, size_t, int64_t, const char*), size_t i, int64_t need, const char* name,
           const char* because, const ShapeText& shape) {
  if (a->failed) return nullptr;
  const int64_t have = length(a, i, name);
  if (!a->failed && need >= 0 && have != need) {
    fail(a, "%s has %lld elements, but %s %s needs %lld", name, static_cast<long long>(have), because, shape.text,
         static_cast<long long>(need));
    return nullptr;
  }
  return get(a, i, need, name);
}

#define BEGIN(name, n)                                 \
  Args a;                                              \
  if (!load_args(env, info, &a, name, n)) return nullptr;
// After the kernel: scratch memory that could not be allocated is an error, not a wrong answer.
#define CHECK_MEMORY() \
  if (!a.failed && bk::take_out_of_memory()) fail(&a, "out of memory (a scratch buffer could not be allocated)");
#define END()                   \
  CHECK_MEMORY();               \
  if (a.failed) return nullptr; \
  return undefined(env);

// unary(op, x, out, alpha)
napi_value Unary(napi_env env, napi_callback_info info) {
  BEGIN("unary", 4);
  const int64_t op = num(&a, 0, "op");
  const int64_t n = length(&a, 1, "x");
  const float* x = f32(&a, 1, n, "x");
  float* out = operand(&a, f32, 2, n, "out", "x", ShapeText{n});
  const float alpha = static_cast<float>(real(&a, 3, "alpha"));
  if (!a.failed && op >= bk::kNumUnary) fail(&a, "unknown op %lld", static_cast<long long>(op));
  if (!a.failed) bk::unary(static_cast<int32_t>(op), x, out, n, alpha);
  END();
}

// binary(op, a, b, out, params): params = [rank, outShape[rank], aShape[rank], bShape[rank]]
napi_value Binary(napi_env env, napi_callback_info info) {
  BEGIN("binary", 5);
  const int64_t op = num(&a, 0, "op");
  const int32_t* p = params(&a, 4, 1);
  const int32_t rank = p ? rank_of(&a, p) : 0;
  p = params(&a, 4, 1 + 3 * rank);
  if (a.failed) return nullptr;
  const int32_t* outShape = p + 1;
  const int32_t* aShape = outShape + rank;
  const int32_t* bShape = aShape + rank;
  const int64_t na = product(&a, aShape, rank, "a's shape"), nb = product(&a, bShape, rank, "b's shape");
  const int64_t no = product(&a, outShape, rank, "the output shape");
  for (int32_t d = 0; d < rank && !a.failed; ++d) {
    if ((aShape[d] != 1 && aShape[d] != outShape[d]) || (bShape[d] != 1 && bShape[d] != outShape[d]))
      fail(&a, "shapes do not broadcast: dimension %d is %d in a, %d in b, %d in the output", d, aShape[d], bShape[d], outShape[d]);
  }
  const float* x = f32(&a, 1, na, "a");
  const float* y = f32(&a, 2, nb, "b");
  float* out = f32(&a, 3, no, "out");
  if (!a.failed && op >= bk::kNumBinary) fail(&a, "unknown op %lld", static_cast<long long>(op));
  if (!a.failed && no > 0) bk::binary(static_cast<int32_t>(op), x, y, out, rank, outShape, aShape, bShape);
  END();
}

// reduce(op, x, out, outer, mid, inner)
napi_value Reduce(napi_env env, napi_callback_info info) {
  BEGIN("reduce", 6);
  const int64_t op = num(&a, 0, "op");
  const int64_t outer = num(&a, 3, "outer"), mid = num(&a, 4, "mid"), inner = num(&a, 5, "inner");
  const ShapeText shape{outer, mid, inner};
  const float* x = operand(&a, f32, 1, mul(&a, outer, mid, inner), "x", "[outer, mid, inner]", shape);
  float* out = operand(&a, f32, 2, mul(&a, outer, inner), "out", "[outer, mid, inner]", shape);
  if (!a.failed && op >= bk::kNumReduce) fail(&a, "unknown reduction %lld", static_cast<long long>(op));
  // An empty output is nothing to do, however large the other sizes (the loops run over them).
  if (!a.failed && outer * inner > 0) bk::reduce(static_cast<int32_t>(op), x, out, outer, mid, inner);
  END();
}

// argReduce(isMax, x, out, outer, mid, inner)
napi_value ArgReduce(napi_env env, napi_callback_info info) {
  BEGIN("argReduce", 6);
  const bool isMax = flag(&a, 0, "isMax");
  const int64_t outer = num(&a, 3, "outer"), mid = num(&a, 4, "mid"), inner = num(&a, 5, "inner");
  const ShapeText shape{outer, mid, inner};
  const float* x = operand(&a, f32, 1, mul(&a, outer, mid, inner), "x", "[outer, mid, inner]", shape);
  int32_t* out = operand(&a, i32, 2, mul(&a, outer, inner), "out", "[outer, mid, inner]", shape);
  if (!a.failed && mid == 0 && outer * inner > 0) fail(&a, "arg reduction over an empty axis %s", shape.text);
  if (!a.failed && outer * inner > 0) bk::arg_reduce(isMax, x, out, outer, mid, inner);
  END();
}

// softmax(x, out, rows, cols, log)
napi_value Softmax(napi_env env, napi_callback_info info) {
  BEGIN("softmax", 5);
  const int64_t rows = num(&a, 2, "rows"), cols = num(&a, 3, "cols");
  const ShapeText shape{rows, cols};
  const float* x = operand(&a, f32, 0, mul(&a, rows, cols), "x", "[rows, cols]", shape);
  float* out = operand(&a, f32, 1, mul(&a, rows, cols), "out", "[rows, cols]", shape);
  const bool log = flag(&a, 4, "log");
  if (!a.failed && rows * cols > 0) bk::softmax(x, out, rows, cols, log);
  END();
}

// softmaxGrad(y, dy, dx, rows, cols)
napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  BEGIN("softmaxGrad", 5);
  const int64_t rows = num(&a, 3, "rows"), cols = num(&a, 4, "cols");
  const ShapeText shape{rows, cols};
  const int64_t n = mul(&a, rows, cols);
  const float* y = operand(&a, f32, 0, n, "y", "[rows, cols]", shape);
  const float* dy = operand(&a, f32, 1, n, "dy", "[rows, cols]", shape);
  float* dx = operand(&a, f32, 2, n, "dx", "[rows, cols]", shape);
  if (!a.failed && n > 0) bk::softmax_grad(y, dy, dx, rows, cols);
  END();
}

// matmul(a, b, c, bias|null, aIdx|null, bIdx|null, params, alpha)
// params = [batch, aCount, bCount, M, N, K, transA, transB, act, accumulate]
napi_value MatMul(napi_env env, napi_callback_info info) {
  BEGIN("matmul", 8);
  const int32_t* p = params(&a, 6, 10);
  if (a.failed) return nullptr;
  const int64_t batch = p[0], aCount = p[1], bCount = p[2], M = p[3], N = p[4], K = p[5];
  const bool transA = p[6] != 0, transB = p[7] != 0, accumulate = p[9] != 0;
  const int32_t act = p[8];
  if (batch < 0 || aCount < 1 || bCount < 1 || M < 0 || N < 0 || K < 0)
    fail(&a, "bad sizes: batch %lld, aCount %lld, bCount %lld, M %lld, N %lld, K %lld", static_cast<long long>(batch),
         static_cast<long long>(aCount), static_cast<long long>(bCount), static_cast<long long>(M), static_cast<long long>(N),
         static_cast<long long>(K));
  if (!a.failed && (act < 0 || act > 5)) fail(&a, "unknown activation %d", act);
  const ShapeText aShape = transA ? ShapeText{aCount, K, M} : ShapeText{aCount, M, K};
  const ShapeText bShape = transB ? ShapeText{bCount, N, K} : ShapeText{bCount, K, N};
  const float* x = operand(&a, f32, 0, mul(&a, aCount, M, K), "a", "a's shape", aShape);
  const float* y = operand(&a, f32, 1, mul(&a, bCount, K, N), "b", "b's shape", bShape);
  float* c = operand(&a, f32, 2, mul(&a, batch, M, N), "c", "[batch, M, N]", ShapeText{batch, M, N});
  const float* bias = is_null(&a, 3) ? nullptr : operand(&a, f32, 3, N, "bias", "[M, N] rows of width N =", ShapeText{M, N});
  const int32_t* aIdx = is_null(&a, 4) ? nullptr : operand(&a, i32, 4, batch, "aIdx", "batch", ShapeText{batch});
  const int32_t* bIdx = is_null(&a, 5) ? nullptr : operand(&a, i32, 5, batch, "bIdx", "batch", ShapeText{batch});
  const float alpha = static_cast<float>(real(&a, 7, "alpha"));
  if (!a.failed) {
    // Out-of-range batch indices would read past the inputs.
    for (int64_t i = 0; i < batch; ++i) {
      if ((aIdx && (aIdx[i] < 0 || aIdx[i] >= aCount)) || (bIdx && (bIdx[i] < 0 || bIdx[i] >= bCount))) {
        fail(&a, "batch index %lld out of range (aCount %lld, bCount %lld)", static_cast<long long>(i), static_cast<long long>(aCount),
             static_cast<long long>(bCount));
        break;
      }
    }
    if (!aIdx && aCount != 1 && aCount != batch)
      fail(&a, "a holds %lld matrices for a batch of %lld", static_cast<long long>(aCount), static_cast<long long>(batch));
    if (!bIdx && bCount != 1 && bCount != batch)
      fail(&a, "b holds %lld matrices for a batch of %lld", static_cast<long long>(bCount), static_cast<long long>(batch));
  }
  if (!a.failed)
    bk::matmul(x, y, c, bias, batch, aCount, bCount, aIdx, bIdx, M, N, K, transA, transB, act, alpha, accumulate);
  END();
}

// sgemm(kernel, transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc): one product on one thread,
// with BLAS's full semantics (leading dimensions, alpha, beta). kernel: 0 this build's sgemm, 1 the
// built-in GEMM's best kernel, 2 its AVX2 kernel, 3 its portable kernel. For tests and benchmarks.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  BEGIN("sgemm", 14);
  const int64_t kernel = num(&a, 0, "kernel");
  const bool transA = flag(&a, 1, "transA"), transB = flag(&a, 2, "transB");
  const int64_t M = num(&a, 3, "M"), N = num(&a, 4, "N"), K = num(&a, 5, "K");
  const float alpha = static_cast<float>(real(&a, 6, "alpha"));
  const int64_t lda = num(&a, 8, "lda"), ldb = num(&a, 10, "ldb"), ldc = num(&a, 13, "ldc");
  const float beta = static_cast<float>(real(&a, 11, "beta"));
  const int64_t aRows = transA ? K : M, aCols = transA ? M : K;
  const int64_t bRows = transB ? N : K, bCols = transB ? K : N;
  if (!a.failed && (lda < (aCols > 1 ? aCols : 1) || ldb < (bCols > 1 ? bCols : 1) || ldc < (N > 1 ? N : 1)))
    fail(&a, "a leading dimension is smaller than its matrix's width (lda %lld, ldb %lld, ldc %lld)", static_cast<long long>(lda),
         static_cast<long long>(ldb), static_cast<long long>(ldc));
  // The arrays must hold every row up to the last one's last element, and no more.
  auto extent = [&](int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : mul(&a, rows - 1, ld) + cols; };
  const float* x = f32(&a, 7, extent(aRows, aCols, lda), "a");
  const float* y = f32(&a, 9, extent(bRows, bCols, ldb), "b");
  float* c = f32(&a, 12, extent(M, N, ldc), "c");
  if (!a.failed && kernel > 3) fail(&a, "unknown kernel %lld", static_cast<long long>(kernel));
  if (!a.failed && kernel >= 2 && !bk::builtin_kernel_available(static_cast<int32_t>(kernel - 1)))
    fail(&a, "the %s kernel cannot run on this CPU", bk::builtin_kernel_name(static_cast<int32_t>(kernel - 1)));
  if (!a.failed) {
    if (kernel == 0) bk::sgemm(transA, transB, M, N, K, alpha, x, lda, y, ldb, beta, c, ldc);
    else bk::builtin_sgemm(static_cast<int32_t>(kernel - 1), transA, transB, M, N, K, alpha, x, lda, y, ldb, beta, c, ldc);
  }
  END();
}

// activation(act, x, alpha): in place
napi_value Activation(napi_env env, napi_callback_info info) {
  BEGIN("activation", 3);
  const int64_t act = num(&a, 0, "act");
  const int64_t n = length(&a, 1, "x");
  float* x = f32(&a, 1, n, "x");
  const float alpha = static_cast<float>(real(&a, 2, "alpha"));
  if (!a.failed && act > 5) fail(&a, "unknown activation %lld", static_cast<long long>(act));
  if (!a.failed) bk::activation(static_cast<int32_t>(act), x, n, alpha);
  END();
}

// copyRegion(src, dst, params): params = [rank, size, srcShape, srcBegin, dstShape, dstBegin] (rank each)
napi_value CopyRegion(napi_env env, napi_callback_info info) {
  BEGIN("copyRegion", 3);
  const int32_t* p = params(&a, 2, 1);
  const int32_t rank = p ? rank_of(&a, p) : 0;
  p = params(&a, 2, 1 + 5 * rank);
  if (a.failed) return nullptr;
  const int32_t* size = p + 1;
  const int32_t* srcShape = size + rank;
  const int32_t* srcBegin = srcShape + rank;
  const int32_t* dstShape = srcBegin + rank;
  const int32_t* dstBegin = dstShape + rank;
  for (int32_t d = 0; d < rank && !a.failed; ++d) {
    if (size[d] < 0 || srcBegin[d] < 0 || dstBegin[d] < 0 || int64_t{srcBegin[d]} + size[d] > srcShape[d] ||
        int64_t{dstBegin[d]} + size[d] > dstShape[d])
      fail(&a, "region out of bounds in dimension %d: size %d from %d of %d (source), to %d of %d (destination)", d, size[d],
           srcBegin[d], srcShape[d], dstBegin[d], dstShape[d]);
  }
  const uint32_t* src = u32(&a, 0, product(&a, srcShape, rank, "the source shape"), "src");
  uint32_t* dst = u32(&a, 1, product(&a, dstShape, rank, "the destination shape"), "dst");
  same_type(&a, 0, 1, "src", "dst");
  if (!a.failed) bk::copy_region(src, dst, rank, size, srcShape, srcBegin, dstShape, dstBegin);
  END();
}

// transpose(x, out, params): params = [rank, shape[rank], perm[rank]]
napi_value Transpose(napi_env env, napi_callback_info info) {
  BEGIN("transpose", 3);
  const int32_t* p = params(&a, 2, 1);
  const int32_t rank = p ? rank_of(&a, p) : 0;
  p = params(&a, 2, 1 + 2 * rank);
  if (a.failed) return nullptr;
  const int32_t* shape = p + 1;
  const int32_t* perm = shape + rank;
  int seen = 0;
  for (int32_t d = 0; d < rank && !a.failed; ++d) {
    if (perm[d] < 0 || perm[d] >= rank || (seen & (1 << perm[d]))) fail(&a, "bad permutation (entry %d is %d)", d, perm[d]);
    else seen |= 1 << perm[d];
  }
  const int64_t n = product(&a, shape, rank, "the shape");
  const uint32_t* x = u32(&a, 0, n, "x");
  uint32_t* out = u32(&a, 1, n, "out");
  same_type(&a, 0, 1, "x", "out");
  if (!a.failed) bk::transpose(x, out, rank, shape, perm);
  END();
}

// gather(x, idx, out, outer, axisDim, inner) -> -1, or the position of the first out-of-range index
napi_value Gather(napi_env env, napi_callback_info info) {
  BEGIN("gather", 6);
  const int64_t outer = num(&a, 3, "outer"), axisDim = num(&a, 4, "axisDim"), inner = num(&a, 5, "inner");
  const int64_t n = length(&a, 1, "idx");
  const ShapeText shape{outer, axisDim, inner};
  const uint32_t* x = operand(&a, u32, 0, mul(&a, outer, axisDim, inner), "x", "[outer, axisDim, inner]", shape);
  const int32_t* idx = i32(&a, 1, n, "idx");
  uint32_t* out = operand(&a, u32, 2, mul(&a, outer, n, inner), "out", "[outer, indices, inner]", ShapeText{outer, n, inner});
  same_type(&a, 0, 2, "x", "out");
  if (a.failed) return nullptr;
  // Indices are checked whatever the output's size; an empty output is then nothing to copy.
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= axisDim) return number(env, static_cast<double>(i));
  if (outer * n * inner == 0) return number(env, -1);
  return number(env, static_cast<double>(bk::gather(x, idx, out, outer, axisDim, inner, n)));
}

// segmentSum(x, ids, out, inner, numSegments)
napi_value SegmentSum(napi_env env, napi_callback_info info) {
  BEGIN("segmentSum", 5);
  const int64_t inner = num(&a, 3, "inner"), numSegments = num(&a, 4, "numSegments");
  const int64_t rows = length(&a, 1, "ids");
  const float* x = operand(&a, f32, 0, mul(&a, rows, inner), "x", "[ids, inner]", ShapeText{rows, inner});
  const int32_t* ids = i32(&a, 1, rows, "ids");
  float* out = operand(&a, f32, 2, mul(&a, numSegments, inner), "out", "[numSegments, inner]", ShapeText{numSegments, inner});
  if (!a.failed) bk::unsorted_segment_sum(x, ids, out, rows, inner, numSegments);
  END();
}

// oneHot(idx, out, depth, on, off)
napi_value OneHot(napi_env env, napi_callback_info info) {
  BEGIN("oneHot", 5);
  const int64_t depth = num(&a, 2, "depth");
  const int64_t n = length(&a, 0, "idx");
  const int32_t* idx = i32(&a, 0, n, "idx");
  float* out = operand(&a, f32, 1, mul(&a, n, depth), "out", "[indices, depth]", ShapeText{n, depth});
  const float on = static_cast<float>(real(&a, 3, "on")), off = static_cast<float>(real(&a, 4, "off"));
  if (!a.failed) bk::one_hot(idx, out, n, depth, on, off);
  END();
}

// fill(out, value)
napi_value Fill(napi_env env, napi_callback_info info) {
  BEGIN("fill", 2);
  const int64_t n = length(&a, 0, "out");
  float* out = f32(&a, 0, n, "out");
  const float value = static_cast<float>(real(&a, 1, "value"));
  if (!a.failed) bk::fill(out, n, value);
  END();
}

// colSum(x, out, cols, accumulate)
napi_value ColSum(napi_env env, napi_callback_info info) {
  BEGIN("colSum", 4);
  const int64_t cols = num(&a, 2, "cols");
  const int64_t n = length(&a, 0, "x");
  if (!a.failed && (cols == 0 ? n != 0 : n % cols != 0))
    fail(&a, "x has %lld elements, not a whole number of rows of %lld", static_cast<long long>(n), static_cast<long long>(cols));
  const float* x = f32(&a, 0, n, "x");
  float* out = operand(&a, f32, 1, cols, "out", "x's rows", ShapeText{cols ? n / cols : 0, cols});
  const bool accumulate = flag(&a, 3, "accumulate");
  if (!a.failed && cols > 0) bk::col_sum(x, out, n / cols, cols, accumulate);
  END();
}

// A norm's x (operand 0) as rows of C (operand c): its element count must be a whole number of nonempty
// rows. The shape the other operands' errors name is [rows, C].
struct NormRows {
  int64_t C, n, rows;
  ShapeText shape;
};
NormRows norm_rows(Args* a, size_t c) {
  const int64_t C = num(a, c, "C");
  const int64_t n = length(a, 0, "x");
  if (!a->failed && (C == 0 || n % C != 0))
    fail(a, "x has %lld elements, not a whole number of rows of C = %lld", static_cast<long long>(n), static_cast<long long>(C));
  const int64_t rows = C ? n / C : 0;
  return NormRows{C, n, rows, ShapeText{rows, C}};
}

// layerNorm(x, gamma, beta, y, mean, rstd, C, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  BEGIN("layerNorm", 8);
  const NormRows r = norm_rows(&a, 6);
  const int64_t C = r.C, n = r.n, rows = r.rows;
  const ShapeText& shape = r.shape;
  const float* x = f32(&a, 0, n, "x");
  const float* gamma = operand(&a, f32, 1, C, "gamma", "x", shape);
  const float* beta = operand(&a, f32, 2, C, "beta", "x", shape);
  float* y = operand(&a, f32, 3, n, "y", "x", shape);
  float* mean = operand(&a, f32, 4, rows, "mean", "x", shape);
  float* rstd = operand(&a, f32, 5, rows, "rstd", "x", shape);
  const float eps = static_cast<float>(real(&a, 7, "eps"));
  if (!a.failed) bk::layer_norm(x, gamma, beta, y, mean, rstd, rows, C, eps);
  END();
}

// layerNormGrad(x, gamma, mean, rstd, dy, dx|null, dgamma|null, dbeta|null, C)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  BEGIN("layerNormGrad", 9);
  const NormRows r = norm_rows(&a, 8);
  const int64_t C = r.C, n = r.n, rows = r.rows;
  const ShapeText& shape = r.shape;
  const float* x = f32(&a, 0, n, "x");
  const float* gamma = operand(&a, f32, 1, C, "gamma", "x", shape);
  const float* mean = operand(&a, f32, 2, rows, "mean", "x", shape);
  const float* rstd = operand(&a, f32, 3, rows, "rstd", "x", shape);
  const float* dy = operand(&a, f32, 4, n, "dy", "x", shape);
  float* dx = is_null(&a, 5) ? nullptr : operand(&a, f32, 5, n, "dx", "x", shape);
  float* dgamma = is_null(&a, 6) ? nullptr : operand(&a, f32, 6, C, "dgamma", "x", shape);
  float* dbeta = is_null(&a, 7) ? nullptr : operand(&a, f32, 7, C, "dbeta", "x", shape);
  if (!a.failed) bk::layer_norm_grad(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, C);
  END();
}

// rmsNorm(x, gamma, y, rstd, C, eps)
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  BEGIN("rmsNorm", 6);
  const NormRows r = norm_rows(&a, 4);
  const int64_t C = r.C, n = r.n, rows = r.rows;
  const ShapeText& shape = r.shape;
  const float* x = f32(&a, 0, n, "x");
  const float* gamma = operand(&a, f32, 1, C, "gamma", "x", shape);
  float* y = operand(&a, f32, 2, n, "y", "x", shape);
  float* rstd = operand(&a, f32, 3, rows, "rstd", "x", shape);
  const float eps = static_cast<float>(real(&a, 5, "eps"));
  if (!a.failed) bk::rms_norm(x, gamma, y, rstd, rows, C, eps);
  END();
}

// rmsNormGrad(x, gamma, rstd, dy, dx|null, dgamma|null, C)
napi_value RmsNormGrad(napi_env env, napi_callback_info info) {
  BEGIN("rmsNormGrad", 7);
  const NormRows r = norm_rows(&a, 6);
  const int64_t C = r.C, n = r.n, rows = r.rows;
  const ShapeText& shape = r.shape;
  const float* x = f32(&a, 0, n, "x");
  const float* gamma = operand(&a, f32, 1, C, "gamma", "x", shape);
  const float* rstd = operand(&a, f32, 2, rows, "rstd", "x", shape);
  const float* dy = operand(&a, f32, 3, n, "dy", "x", shape);
  float* dx = is_null(&a, 4) ? nullptr : operand(&a, f32, 4, n, "dx", "x", shape);
  float* dgamma = is_null(&a, 5) ? nullptr : operand(&a, f32, 5, C, "dgamma", "x", shape);
  if (!a.failed) bk::rms_norm_grad(x, gamma, rstd, dy, dx, dgamma, rows, C);
  END();
}

// geluGrad(x, dy, dx)
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  BEGIN("geluGrad", 3);
  const int64_t n = length(&a, 0, "x");
  const float* x = f32(&a, 0, n, "x");
  const float* dy = operand(&a, f32, 1, n, "dy", "x", ShapeText{n});
  float* dx = operand(&a, f32, 2, n, "dx", "x", ShapeText{n});
  if (!a.failed) bk::gelu_grad(x, dy, dx, n);
  END();
}

// The activation code of gatedActivation and its gradient (GatedActivation in addon.ts).
int32_t gated_act_of(Args* a, size_t i) {
  const int64_t act = num(a, i, "activation");
  if (!a->failed && act > bk::kGatedRelu2) fail(a, "unknown activation %lld", static_cast<long long>(act));
  return static_cast<int32_t>(act);
}

// gatedActivation(gate, up, y, activation)
napi_value GatedActivation(napi_env env, napi_callback_info info) {
  BEGIN("gatedActivation", 4);
  const int64_t n = length(&a, 0, "gate");
  const ShapeText shape{n};
  const float* gate = f32(&a, 0, n, "gate");
  const float* up = operand(&a, f32, 1, n, "up", "gate", shape);
  float* y = operand(&a, f32, 2, n, "y", "gate", shape);
  const int32_t act = gated_act_of(&a, 3);
  if (!a.failed) bk::gated_activation(gate, up, y, n, act);
  END();
}

// gatedActivationGrad(gate, up, dy, dgate, dup, activation)
napi_value GatedActivationGrad(napi_env env, napi_callback_info info) {
  BEGIN("gatedActivationGrad", 6);
  const int64_t n = length(&a, 0, "gate");
  const ShapeText shape{n};
  const float* gate = f32(&a, 0, n, "gate");
  const float* up = operand(&a, f32, 1, n, "up", "gate", shape);
  const float* dy = operand(&a, f32, 2, n, "dy", "gate", shape);
  float* dgate = operand(&a, f32, 3, n, "dgate", "gate", shape);
  float* dup = operand(&a, f32, 4, n, "dup", "gate", shape);
  const int32_t act = gated_act_of(&a, 5);
  if (!a.failed) bk::gated_activation_grad(gate, up, dy, dgate, dup, n, act);
  END();
}

// mlpActivation(x, y, activation)
napi_value MlpActivation(napi_env env, napi_callback_info info) {
  BEGIN("mlpActivation", 3);
  const int64_t n = length(&a, 0, "x");
  const float* x = f32(&a, 0, n, "x");
  float* y = operand(&a, f32, 1, n, "y", "x", ShapeText{n});
  const int32_t act = gated_act_of(&a, 2);
  if (!a.failed) bk::mlp_activation(x, y, n, act);
  END();
}

// mlpActivationGrad(x, dy, dx, activation)
napi_value MlpActivationGrad(napi_env env, napi_callback_info info) {
  BEGIN("mlpActivationGrad", 4);
  const int64_t n = length(&a, 0, "x");
  const float* x = f32(&a, 0, n, "x");
  const float* dy = operand(&a, f32, 1, n, "dy", "x", ShapeText{n});
  float* dx = operand(&a, f32, 2, n, "dx", "x", ShapeText{n});
  const int32_t act = gated_act_of(&a, 3);
  if (!a.failed) bk::mlp_activation_grad(x, dy, dx, n, act);
  END();
}

// The rows of an expert mix: pos (operand p) as [N, K] rows into o (operand o) as [M, C]; every index in
// [0, M), or reading o would go past its end.
struct MixRows {
  int64_t N, K, C, M;
  const int32_t* pos;
};
MixRows mix_rows(Args* a, size_t o, size_t p, size_t k, size_t c) {
  const int64_t K = num(a, k, "K"), C = num(a, c, "C");
  const int64_t np = length(a, p, "pos"), no = length(a, o, "o");
  if (!a->failed && (K == 0 ? np != 0 : np % K != 0))
    fail(a, "pos has %lld elements, not a whole number of rows of K = %lld", static_cast<long long>(np), static_cast<long long>(K));
  if (!a->failed && (C == 0 || no % C != 0))
    fail(a, "o has %lld elements, not a whole number of rows of C = %lld", static_cast<long long>(no), static_cast<long long>(C));
  MixRows r{K ? np / K : 0, K, C, C ? no / C : 0, nullptr};
  r.pos = i32(a, p, np, "pos");
  if (!a->failed) {
    for (int64_t i = 0; i < np; ++i) {
      if (r.pos[i] < 0 || r.pos[i] >= r.M) {
        fail(a, "pos[%lld] = %d is not a row of o (%lld rows)", static_cast<long long>(i), r.pos[i], static_cast<long long>(r.M));
        break;
      }
    }
  }
  return r;
}

// expertCombine(o, pos, w|null, y, K, C)
napi_value ExpertCombine(napi_env env, napi_callback_info info) {
  BEGIN("expertCombine", 6);
  const MixRows r = mix_rows(&a, 0, 1, 4, 5);
  const float* o = f32(&a, 0, mul(&a, r.M, r.C), "o");
  const float* w = is_null(&a, 2) ? nullptr : operand(&a, f32, 2, mul(&a, r.N, r.K), "w", "pos", ShapeText{r.N, r.K});
  float* y = operand(&a, f32, 3, mul(&a, r.N, r.C), "y", "[pos rows, C]", ShapeText{r.N, r.C});
  if (!a.failed) bk::expert_combine(o, r.pos, w, y, r.N, r.K, r.C);
  END();
}

// expertCombineGrad(o, pos, w, dy, dO, dw, K, C)
napi_value ExpertCombineGrad(napi_env env, napi_callback_info info) {
  BEGIN("expertCombineGrad", 8);
  const MixRows r = mix_rows(&a, 0, 1, 6, 7);
  const float* o = f32(&a, 0, mul(&a, r.M, r.C), "o");
  const float* w = operand(&a, f32, 2, mul(&a, r.N, r.K), "w", "pos", ShapeText{r.N, r.K});
  const float* dy = operand(&a, f32, 3, mul(&a, r.N, r.C), "dy", "[pos rows, C]", ShapeText{r.N, r.C});
  float* dO = operand(&a, f32, 4, mul(&a, r.M, r.C), "dO", "o", ShapeText{r.M, r.C});
  float* dw = operand(&a, f32, 5, mul(&a, r.N, r.K), "dw", "pos", ShapeText{r.N, r.K});
  if (!a.failed) bk::expert_combine_grad(o, r.pos, w, dy, dO, dw, r.N, r.K, r.C);
  END();
}

// crossEntropy(logits, targets, probs, V) -> mean loss (0 over no rows, as tf.mean of nothing)
napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  BEGIN("crossEntropy", 4);
  const int64_t V = num(&a, 3, "V");
  const int64_t rows = length(&a, 1, "targets");
  const int32_t* targets = i32(&a, 1, rows, "targets");
  const ShapeText shape{rows, V};
  // The row count comes from the targets: logits with more (or fewer) rows are refused, not cut.
  const float* logits = operand(&a, f32, 0, mul(&a, rows, V), "logits", "targets x V", shape);
  float* probs = operand(&a, f32, 2, mul(&a, rows, V), "probs", "targets x V", shape);
  if (!a.failed && V == 0 && rows > 0) fail(&a, "V is 0: no classes to pick %lld targets from", static_cast<long long>(rows));
  if (a.failed) return nullptr;
  const double loss = bk::cross_entropy(logits, targets, probs, rows, V);
  CHECK_MEMORY();
  if (a.failed) return nullptr;
  return number(env, loss);
}

// crossEntropyGrad(probs, targets, dlogits, V, scale)
napi_value CrossEntropyGrad(napi_env env, napi_callback_info info) {
  BEGIN("crossEntropyGrad", 5);
  const int64_t V = num(&a, 3, "V");
  const int64_t rows = length(&a, 1, "targets");
  const int32_t* targets = i32(&a, 1, rows, "targets");
  const ShapeText shape{rows, V};
  const float* probs = operand(&a, f32, 0, mul(&a, rows, V), "probs", "targets x V", shape);
  float* dlogits = operand(&a, f32, 2, mul(&a, rows, V), "dlogits", "targets x V", shape);
  const float scale = static_cast<float>(real(&a, 4, "scale"));
  if (!a.failed) bk::cross_entropy_grad(probs, targets, dlogits, rows, V, scale);
  END();
}

// The probability that dropout keeps a value: in (0, 1].
float keep_of(Args* a, size_t i) {
  const float keep = static_cast<float>(real(a, i, "keep"));
  if (!a->failed && !(keep > 0.0f && keep <= 1.0f)) fail(a, "keep probability %g out of (0, 1]", static_cast<double>(keep));
  return keep;
}

// The score shaping an attention call may pass after its own arguments, from argument i on: window (a
// whole number, 0: none), slopes (a Float64Array of one ALiBi slope per query head, or null), softcap (a
// finite number >= 0, 0: none), capGrad (a Float32Array as p, or null: 1 - tanh^2 of the capped scores,
// written forward and read backward; the gradient needs it with a cap). Absent: the causal mask alone.
bk::ScoreShaping shaping_of(Args* a, size_t i, int64_t H, int64_t np, bool gradient, const char* what, const ShapeText& shape) {
  bk::ScoreShaping z{0, nullptr, 0.0f, nullptr};
  if (a->failed || a->argc <= i) return z;
  if (a->argc < i + 4) {
    fail(a, "score shaping takes 4 arguments (window, slopes, softcap, capGrad), got %zu", a->argc - i);
    return z;
  }
  z.window = num(a, i, "window");
  if (!is_null(a, i + 1)) z.slopes = operand(a, f64, i + 1, H, "slopes", what, shape);
  const double cap = real(a, i + 2, "softcap");
  if (!a->failed && !(cap >= 0.0 && cap <= 3.4e38)) fail(a, "softcap is %g, expected a finite number >= 0", cap);
  z.softcap = static_cast<float>(cap);
  if (!is_null(a, i + 3)) z.capGrad = operand(a, f32, i + 3, np, "capGrad", what, shape);
  else if (gradient && !a->failed && z.softcap > 0.0f) fail(a, "with a softcap the gradient needs capGrad, which the forward call wrote");
  if (!a->failed && z.slopes != nullptr)
    for (int64_t h = 0; h < H; ++h)
      if (!(z.slopes[h] > -1e30 && z.slopes[h] < 1e30)) fail(a, "slopes[%lld] is %g, expected a finite number", static_cast<long long>(h), z.slopes[h]);
  return z;
}

// mhaAttentionDropout(qkv, out, p, mask|null, keep, B, T, H, D, scale[, window, slopes|null, softcap, capGrad|null])
napi_value MhaAttentionDropout(napi_env env, napi_callback_info info) {
  BEGIN("mhaAttentionDropout", 10);
  const int64_t B = num(&a, 5, "B"), T = num(&a, 6, "T"), H = num(&a, 7, "H"), D = num(&a, 8, "D");
  const ShapeText shape{B, T, H, D};
  const char* what = "[B, T, H, D]";
  const float* qkv = operand(&a, f32, 0, mul(&a, mul(&a, B, T), 3, mul(&a, H, D)), "qkv", what, shape);
  float* out = operand(&a, f32, 1, mul(&a, B, T, H, D), "out", what, shape);
  float* p = operand(&a, f32, 2, mul(&a, B, H, T, T), "p", what, shape);
  const uint8_t* mask = is_null(&a, 3) ? nullptr : operand(&a, u8, 3, mul(&a, B, H, T, T), "mask", what, shape);
  const float keep = keep_of(&a, 4);
  const float scale = static_cast<float>(real(&a, 9, "scale"));
  const bk::ScoreShaping shaping = shaping_of(&a, 10, H, mul(&a, B, H, T, T), false, what, shape);
  if (!a.failed && B * T * H * D > 0) bk::mha_attention_dropout(qkv, out, p, mask, keep, B, T, H, D, scale, shaping);
  else if (!a.failed && B * H * T > 0) {
    bk::fill(p, B * H * T * T, 0.0f);
    if (shaping.capGrad != nullptr) bk::fill(shaping.capGrad, B * H * T * T, 0.0f);
  }
  END();
}

// mhaAttentionDropoutGrad(qkv, p, mask|null, keep, dout, dqkv, scratch, B, T, H, D, scale[, window, slopes|null,
// softcap, capGrad|null])
napi_value MhaAttentionDropoutGrad(napi_env env, napi_callback_info info) {
  BEGIN("mhaAttentionDropoutGrad", 12);
  const int64_t B = num(&a, 7, "B"), T = num(&a, 8, "T"), H = num(&a, 9, "H"), D = num(&a, 10, "D");
  const ShapeText shape{B, T, H, D};
  const char* what = "[B, T, H, D]";
  const int64_t nqkv = mul(&a, mul(&a, B, T), 3, mul(&a, H, D));
  const float* qkv = operand(&a, f32, 0, nqkv, "qkv", what, shape);
  const float* p = operand(&a, f32, 1, mul(&a, B, H, T, T), "p", what, shape);
  const uint8_t* mask = is_null(&a, 2) ? nullptr : operand(&a, u8, 2, mul(&a, B, H, T, T), "mask", what, shape);
  const float keep = keep_of(&a, 3);
  const float* dout = operand(&a, f32, 4, mul(&a, B, T, H, D), "dout", what, shape);
  float* dqkv = operand(&a, f32, 5, nqkv, "dqkv", what, shape);
  float* scratch = operand(&a, f32, 6, mul(&a, T, T), "scratch", what, shape);
  const float scale = static_cast<float>(real(&a, 11, "scale"));
  const bk::ScoreShaping shaping = shaping_of(&a, 12, H, mul(&a, B, H, T, T), true, what, shape);
  if (!a.failed && B * T * H * D > 0)
    bk::mha_attention_dropout_grad(qkv, p, mask, keep, dout, dqkv, scratch, B, T, H, D, scale, shaping);
  END();
}

// The sizes of causalAttention and its gradient, from params [B, H, KV, Tq, Tk, D]: KV divides H, and
// Tk >= Tq (the queries are the last Tq positions).
struct AttentionSizes {
  int64_t B = 0, H = 0, KV = 0, Tq = 0, Tk = 0, D = 0;
};

AttentionSizes attention_sizes(Args* a, size_t i) {
  AttentionSizes z;
  const int32_t* pr = params(a, i, 6);
  if (a->failed) return z;
  z = AttentionSizes{pr[0], pr[1], pr[2], pr[3], pr[4], pr[5]};
  for (int64_t v : {z.B, z.H, z.KV, z.Tq, z.Tk, z.D})
    if (v < 0) fail(a, "a negative size in [B, H, KV, Tq, Tk, D] [%lld, %lld, %lld, %lld, %lld, %lld]", static_cast<long long>(z.B), static_cast<long long>(z.H), static_cast<long long>(z.KV), static_cast<long long>(z.Tq), static_cast<long long>(z.Tk), static_cast<long long>(z.D));
  if (!a->failed && (z.KV == 0 ? z.H != 0 : z.H % z.KV != 0))
    fail(a, "%lld key/value heads do not divide %lld query heads", static_cast<long long>(z.KV), static_cast<long long>(z.H));
  if (!a->failed && z.Tk < z.Tq)
    fail(a, "%lld keys for %lld queries: the queries are the last of the key positions, so Tk >= Tq", static_cast<long long>(z.Tk), static_cast<long long>(z.Tq));
  return z;
}

// causalAttention(q, k, v, out, p, mask|null, keep, params [B, H, KV, Tq, Tk, D], scale[, window, slopes|null,
// softcap, capGrad|null])
napi_value CausalAttention(napi_env env, napi_callback_info info) {
  BEGIN("causalAttention", 9);
  const AttentionSizes z = attention_sizes(&a, 7);
  const ShapeText shape{z.B, z.H, z.KV, z.Tq, z.Tk, z.D};
  const char* what = "[B, H, KV, Tq, Tk, D]";
  const float* q = operand(&a, f32, 0, mul(&a, z.B, z.H, z.Tq, z.D), "q", what, shape);
  const float* k = operand(&a, f32, 1, mul(&a, z.B, z.KV, z.Tk, z.D), "k", what, shape);
  const float* v = operand(&a, f32, 2, mul(&a, z.B, z.KV, z.Tk, z.D), "v", what, shape);
  float* out = operand(&a, f32, 3, mul(&a, z.B, z.H, z.Tq, z.D), "out", what, shape);
  const int64_t np = mul(&a, mul(&a, z.B, z.H), z.Tq, z.Tk);
  float* p = operand(&a, f32, 4, np, "p", what, shape);
  const uint8_t* mask = is_null(&a, 5) ? nullptr : operand(&a, u8, 5, np, "mask", what, shape);
  const float keep = keep_of(&a, 6);
  const float scale = static_cast<float>(real(&a, 8, "scale"));
  const bk::ScoreShaping shaping = shaping_of(&a, 9, z.H, np, false, what, shape);
  if (a.failed) return nullptr;
  // With D = 0 there is no output to write (and the gradient reads no weights).
  if (z.D > 0 && z.B * z.H * z.Tq > 0) bk::causal_attention(q, k, v, out, p, mask, keep, z.B, z.H, z.KV, z.Tq, z.Tk, z.D, scale, shaping);
  END();
}

// causalAttentionGrad(q, k, v, p, mask|null, keep, dout, dq, dk, dv, params [B, H, KV, Tq, Tk, D], scale[, window,
// slopes|null, softcap, capGrad|null])
napi_value CausalAttentionGrad(napi_env env, napi_callback_info info) {
  BEGIN("causalAttentionGrad", 12);
  const AttentionSizes z = attention_sizes(&a, 10);
  const ShapeText shape{z.B, z.H, z.KV, z.Tq, z.Tk, z.D};
  const char* what = "[B, H, KV, Tq, Tk, D]";
  const int64_t nq = mul(&a, z.B, z.H, z.Tq, z.D);
  const int64_t nk = mul(&a, z.B, z.KV, z.Tk, z.D);
  const int64_t np = mul(&a, mul(&a, z.B, z.H), z.Tq, z.Tk);
  const float* q = operand(&a, f32, 0, nq, "q", what, shape);
  const float* k = operand(&a, f32, 1, nk, "k", what, shape);
  const float* v = operand(&a, f32, 2, nk, "v", what, shape);
  const float* p = operand(&a, f32, 3, np, "p", what, shape);
  const uint8_t* mask = is_null(&a, 4) ? nullptr : operand(&a, u8, 4, np, "mask", what, shape);
  const float keep = keep_of(&a, 5);
  const float* dout = operand(&a, f32, 6, nq, "dout", what, shape);
  float* dq = operand(&a, f32, 7, nq, "dq", what, shape);
  float* dk = operand(&a, f32, 8, nk, "dk", what, shape);
  float* dv = operand(&a, f32, 9, nk, "dv", what, shape);
  const float scale = static_cast<float>(real(&a, 11, "scale"));
  const bk::ScoreShaping shaping = shaping_of(&a, 12, z.H, np, true, what, shape);
  if (a.failed) return nullptr;
  if (z.D > 0 && z.B * z.H * z.Tq > 0) {
    bk::causal_attention_grad(q, k, v, p, mask, keep, dout, dq, dk, dv, z.B, z.H, z.KV, z.Tq, z.Tk, z.D, scale, shaping);
  } else if (nk > 0) {
    bk::fill(dk, nk, 0.0f);  // no queries: nothing reads the keys and values
    bk::fill(dv, nk, 0.0f);
  }
  END();
}

// rope(x, cos, sin, y, params [N, T, hs, P, half, offset], inverse): N = B * H rows of T positions
napi_value Rope(napi_env env, napi_callback_info info) {
  BEGIN("rope", 6);
  const int32_t* pr = params(&a, 4, 6);
  if (a.failed) return nullptr;
  const int64_t N = pr[0], T = pr[1], hs = pr[2], P = pr[3], half = pr[4], offset = pr[5];
  const ShapeText shape{N, T, hs, P, half, offset};
  if (N < 0 || T < 0 || hs < 0 || P < 0 || half < 0 || offset < 0)
    fail(&a, "a negative size in [N, T, hs, P, half, offset] %s", shape.text);
  else if (2 * half > hs)
    fail(&a, "%lld rotated pairs do not fit in a head of %lld", static_cast<long long>(half), static_cast<long long>(hs));
  else if (offset + T > P)
    fail(&a, "positions %lld to %lld are past the tables' %lld", static_cast<long long>(offset), static_cast<long long>(offset + T - 1), static_cast<long long>(P));
  const char* what = "[N, T, hs, P, half, offset]";
  const float* x = operand(&a, f32, 0, mul(&a, N, T, hs), "x", what, shape);
  const float* cosv = operand(&a, f32, 1, mul(&a, P, half), "cos", what, shape);
  const float* sinv = operand(&a, f32, 2, mul(&a, P, half), "sin", what, shape);
  float* y = operand(&a, f32, 3, mul(&a, N, T, hs), "y", what, shape);
  const bool inverse = flag(&a, 5, "inverse");
  if (!a.failed && N * T * hs > 0) bk::rope(x, cosv, sinv, y, N, T, hs, half, offset, inverse);
  END();
}

// dropoutMask(mask, seed, keep): tf.dropout's keep flags for mask.length values from one seed.
napi_value DropoutMask(napi_env env, napi_callback_info info) {
  BEGIN("dropoutMask", 3);
  const int64_t n = length(&a, 0, "mask");
  uint8_t* mask = u8(&a, 0, n, "mask");
  const double seed = real(&a, 1, "seed");
  const float keep = keep_of(&a, 2);
  if (!a.failed && n > 0) bk::dropout_mask_from_seed(mask, n, seed, keep);
  END();
}

// headDropoutMasks(seeds, mask, B, H, T, keep): seeds a Float64Array of H
napi_value HeadDropoutMasks(napi_env env, napi_callback_info info) {
  BEGIN("headDropoutMasks", 6);
  const int64_t B = num(&a, 2, "B"), H = num(&a, 3, "H"), T = num(&a, 4, "T");
  const double* seeds = operand(&a, f64, 0, H, "seeds", "[B, H, T]", ShapeText{B, H, T});
  uint8_t* mask = operand(&a, u8, 1, mul(&a, B, H, T, T), "mask", "[B, H, T]", ShapeText{B, H, T});
  const float keep = keep_of(&a, 5);
  if (!a.failed && B * H * T > 0) bk::head_dropout_masks(seeds, mask, B, H, T, keep);
  END();
}

// dropout(x, y, mask, seed, keep)
napi_value Dropout(napi_env env, napi_callback_info info) {
  BEGIN("dropout", 5);
  const int64_t n = length(&a, 0, "x");
  const float* x = f32(&a, 0, n, "x");
  float* y = operand(&a, f32, 1, n, "y", "x", ShapeText{n});
  uint8_t* mask = operand(&a, u8, 2, n, "mask", "x", ShapeText{n});
  const double seed = real(&a, 3, "seed");
  const float keep = keep_of(&a, 4);
  if (!a.failed) bk::dropout(x, y, mask, n, seed, keep);
  END();
}

// dropoutGrad(dy, mask, dx, keep)
napi_value DropoutGrad(napi_env env, napi_callback_info info) {
  BEGIN("dropoutGrad", 4);
  const int64_t n = length(&a, 0, "dy");
  const float* dy = f32(&a, 0, n, "dy");
  const uint8_t* mask = operand(&a, u8, 1, n, "mask", "dy", ShapeText{n});
  float* dx = operand(&a, f32, 2, n, "dx", "dy", ShapeText{n});
  const float keep = keep_of(&a, 3);
  if (!a.failed) bk::dropout_grad(dy, mask, dx, n, keep);
  END();
}

// aleaFill(seed, out): tf.randomUniform(shape, 0, 1, 'float32', seed)'s values
napi_value AleaFill(napi_env env, napi_callback_info info) {
  BEGIN("aleaFill", 2);
  const double seed = real(&a, 0, "seed");
  const int64_t n = length(&a, 1, "out");
  float* out = f32(&a, 1, n, "out");
  if (a.failed) return nullptr;
  bk::AleaState st;
  bk::alea_init(seed, &st);
  bk::alea_fill(&st, out, n);
  END();
}

// reluGrad(x, dy, dx)
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  BEGIN("reluGrad", 3);
  const int64_t n = length(&a, 0, "x");
  const float* x = f32(&a, 0, n, "x");
  const float* dy = operand(&a, f32, 1, n, "dy", "x", ShapeText{n});
  float* dx = operand(&a, f32, 2, n, "dx", "x", ShapeText{n});
  if (!a.failed) bk::relu_grad(x, dy, dx, n);
  END();
}

constexpr int64_t kMaxParams = 1 << 16;

// optimizerStep(config, params, grads, m|null, v|null): config a Float64Array of [type (0 sgd, 1 adam),
// decoupled, scaled, lr, b1, 1 - b1, b2, 1 - b2, sqrt(bc2), eps, lr / bc1, 1 - lr * wd, gradScale]
napi_value OptimizerStep(napi_env env, napi_callback_info info) {
  BEGIN("optimizerStep", 5);
  const double* c = f64(&a, 0, 13, "config");
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
  bool isArray = false;
  if (napi_is_array(env, a.argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, a.argv[1], &count) != napi_ok ||
      count > kMaxParams) {
    fail(&a, "params is not an array of at most %lld Float32Arrays", static_cast<long long>(kMaxParams));
    return nullptr;
  }
  const size_t n = count > 0 ? count : 1;
  float** lists = static_cast<float**>(bk::checked_malloc(sizeof(float*) * n * 4));
  int64_t* sizes = static_cast<int64_t*>(bk::checked_malloc(sizeof(int64_t) * n * 4));
  if (lists == nullptr || sizes == nullptr) {
    std::free(lists);
    std::free(sizes);
    END();
  }
  float** p = lists;
  float** g = lists + n;
  float** m = lists + 2 * n;
  float** v = lists + 3 * n;
  const int64_t np = f32_list(&a, 1, p, sizes, count, "params");
  const int64_t ng = f32_list(&a, 2, g, sizes + n, count, "grads");
  int64_t nm = np, nv = np;
  if (cfg.type == 1) {
    nm = f32_list(&a, 3, m, sizes + 2 * n, count, "m");
    nv = f32_list(&a, 4, v, sizes + 3 * n, count, "v");
  }
  if (!a.failed && (np != count || ng != count || nm != count || nv != count))
    fail(&a, "list lengths differ: %lld params, %lld grads, %lld m, %lld v", static_cast<long long>(np), static_cast<long long>(ng),
         static_cast<long long>(nm), static_cast<long long>(nv));
  for (uint32_t k = 0; !a.failed && k < count; ++k) {
    if (sizes[n + k] != sizes[k] || (cfg.type == 1 && (sizes[2 * n + k] != sizes[k] || sizes[3 * n + k] != sizes[k])))
      fail(&a, "parameter %u has %lld elements, its gradient %lld%s", k, static_cast<long long>(sizes[k]), static_cast<long long>(sizes[n + k]),
           cfg.type == 1 ? " (or a moment differs)" : "");
  }
  if (!a.failed) bk::optimizer_step(cfg, count, p, g, m, v, sizes);
  std::free(lists);
  std::free(sizes);
  END();
}

// sumSquares(arrays, out): out[k] = float32 sum of arrays[k]'s squares
napi_value SumSquares(napi_env env, napi_callback_info info) {
  BEGIN("sumSquares", 2);
  uint32_t count = 0;
  bool isArray = false;
  if (napi_is_array(env, a.argv[0], &isArray) != napi_ok || !isArray || napi_get_array_length(env, a.argv[0], &count) != napi_ok ||
      count > kMaxParams) {
    fail(&a, "arrays is not an array of at most %lld Float32Arrays", static_cast<long long>(kMaxParams));
    return nullptr;
  }
  const size_t n = count > 0 ? count : 1;
  float** x = static_cast<float**>(bk::checked_malloc(sizeof(float*) * n));
  int64_t* sizes = static_cast<int64_t*>(bk::checked_malloc(sizeof(int64_t) * n));
  if (x == nullptr || sizes == nullptr) {
    std::free(x);
    std::free(sizes);
    END();
  }
  f32_list(&a, 0, x, sizes, count, "arrays");
  float* out = operand(&a, f32, 1, count, "out", "arrays (one sum each)", ShapeText{count});
  if (!a.failed) bk::sum_squares(count, x, sizes, out);
  std::free(x);
  std::free(sizes);
  END();
}

// setThreads(n): the kernels' threads (0 leaves the count); returns the count in effect.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  BEGIN("setThreads", 1);
  const int64_t n = num(&a, 0, "n");
  if (a.failed) return nullptr;
  bk::set_blas_threads(static_cast<int>(n > 1024 ? 1024 : n));
  return number(env, bk::get_blas_threads());
}

// failAllocationAfter(n): the n-th scratch allocation from now fails as if memory ran out (0 disarms).
// For the tests of out-of-memory handling.
napi_value FailAllocationAfter(napi_env env, napi_callback_info info) {
  BEGIN("failAllocationAfter", 1);
  const int64_t n = num(&a, 0, "n");
  if (a.failed) return nullptr;
  bk::fail_allocation_after(n);
  return undefined(env);
}

// ---- the decoder (decode.cc) ----

// A decoder handed to JavaScript: an external whose finalizer frees it, unless decoderDispose did.
struct DecoderBox {
  bk::Decoder* d;
};

void finalize_decoder(napi_env, void* data, void*) {
  auto* box = static_cast<DecoderBox*>(data);
  if (box->d != nullptr) bk::decoder_destroy(box->d);
  delete box;
}

DecoderBox* decoder_arg(Args* a, size_t i) {
  if (a->failed) return nullptr;
  void* data = nullptr;
  napi_valuetype t;
  if (napi_typeof(a->env, a->argv[i], &t) != napi_ok || t != napi_external || napi_get_value_external(a->env, a->argv[i], &data) != napi_ok) {
    fail(a, "decoder is not a decoder");
    return nullptr;
  }
  auto* box = static_cast<DecoderBox*>(data);
  if (box->d == nullptr) fail(a, "the decoder was disposed");
  return box;
}

// decoderCreate(ints, floats, tensors, maxBatch, profile): a decoder of the flattened plan over the
// tensors' arrays, which the caller keeps alive and unchanged while the decoder lives.
napi_value DecoderCreate(napi_env env, napi_callback_info info) {
  BEGIN("decoderCreate", 5);
  const View ints = view(&a, 0, "ints");
  const View floats = view(&a, 1, "floats");
  if (!a.failed && ints.type != napi_int32_array) fail(&a, "ints is a %s, expected an Int32Array", type_name(ints.type));
  if (!a.failed && floats.type != napi_float64_array) fail(&a, "floats is a %s, expected a Float64Array", type_name(floats.type));
  uint32_t count = 0;
  bool isArray = false;
  if (!a.failed && (napi_is_array(env, a.argv[2], &isArray) != napi_ok || !isArray || napi_get_array_length(env, a.argv[2], &count) != napi_ok ||
                    count > kMaxParams)) {
    fail(&a, "tensors is not an array of at most %lld Float32Arrays", static_cast<long long>(kMaxParams));
  }
  const int64_t maxBatch = num(&a, 3, "maxBatch");
  const bool profile = flag(&a, 4, "profile");
  if (a.failed) return nullptr;
  const size_t n = count > 0 ? count : 1;
  float** data = static_cast<float**>(bk::checked_malloc(sizeof(float*) * n));
  int64_t* sizes = static_cast<int64_t*>(bk::checked_malloc(sizeof(int64_t) * n));
  if (data == nullptr || sizes == nullptr) {
    std::free(data);
    std::free(sizes);
    END();
  }
  f32_list(&a, 2, data, sizes, count, "tensors");
  bk::Decoder* d = nullptr;
  if (!a.failed) {
    char error[300] = "";
    d = bk::decoder_create(static_cast<const int32_t*>(ints.data), ints.length, static_cast<const double*>(floats.data), floats.length, data, sizes,
                           count, static_cast<int32_t>(maxBatch > 4096 ? 4097 : maxBatch), profile, error, sizeof error);
    if (d == nullptr) fail(&a, "%s", error[0] ? error : "out of memory");
  }
  std::free(data);
  std::free(sizes);
  CHECK_MEMORY();
  if (a.failed) {
    if (d != nullptr) bk::decoder_destroy(d);
    return nullptr;
  }
  auto* box = new DecoderBox{d};
  napi_value external;
  if (napi_create_external(env, box, finalize_decoder, nullptr, &external) != napi_ok) {
    bk::decoder_destroy(d);
    delete box;
    return nullptr;
  }
  return external;
}

// decoderStep(decoder, tokens, B, T, past, sampling [temperature, topK, topP], uniforms, out, logits)
napi_value DecoderStep(napi_env env, napi_callback_info info) {
  BEGIN("decoderStep", 9);
  DecoderBox* box = decoder_arg(&a, 0);
  const int64_t B = num(&a, 2, "B");
  const int64_t T = num(&a, 3, "T");
  const int64_t past = num(&a, 4, "past");
  if (a.failed) return nullptr;
  const int64_t maxB = bk::decoder_max_batch(box->d), maxT = bk::decoder_block_size(box->d), V = bk::decoder_vocab(box->d);
  if (B < 1 || B > maxB || T < 1 || past + T > maxT) {
    fail(&a, "%lld sequences of %lld positions after %lld, for a decoder of %lld sequences of %lld", static_cast<long long>(B),
         static_cast<long long>(T), static_cast<long long>(past), static_cast<long long>(maxB), static_cast<long long>(maxT));
    return nullptr;
  }
  const int32_t* tokens = operand(&a, i32, 1, B * T, "tokens", "the batch", ShapeText{B, T});
  const double* sampling = f64(&a, 5, 3, "sampling");
  const double* uniforms = operand(&a, f64, 6, B, "uniforms", "the batch", ShapeText{B});
  int32_t* out = operand(&a, i32, 7, B, "out", "the batch", ShapeText{B});
  float* logits = is_null(&a, 8) ? nullptr : operand(&a, f32, 8, B * V, "logits", "the batch and vocabulary", ShapeText{B, V});
  if (a.failed) return nullptr;
  if (!(sampling[0] >= 0) || !(sampling[1] >= 0 && sampling[1] <= 2147483647.0) || !(sampling[2] > 0)) {
    fail(&a, "sampling is temperature %g, top-k %g, top-p %g", sampling[0], sampling[1], sampling[2]);
    return nullptr;
  }
  char error[300] = "";
  if (!bk::decoder_step(box->d, tokens, static_cast<int32_t>(B), static_cast<int32_t>(T), static_cast<int32_t>(past), sampling[0],
                        static_cast<int32_t>(sampling[1]), sampling[2], uniforms, out, logits, error, sizeof error)) {
    fail(&a, "%s", error);
  }
  END();
}

// decoderProfile(decoder, out): nanoseconds per step kind, then the draws, the whole steps, the count.
napi_value DecoderProfile(napi_env env, napi_callback_info info) {
  BEGIN("decoderProfile", 2);
  DecoderBox* box = decoder_arg(&a, 0);
  double* out = f64(&a, 1, bk::kProfileSlots, "out");
  if (!a.failed) bk::decoder_profile(box->d, out);
  END();
}

// decoderDispose(decoder): frees it now (a second call is a no-op).
napi_value DecoderDispose(napi_env env, napi_callback_info info) {
  BEGIN("decoderDispose", 1);
  void* data = nullptr;
  if (napi_get_value_external(env, a.argv[0], &data) != napi_ok) {
    fail(&a, "decoder is not a decoder");
    return nullptr;
  }
  auto* box = static_cast<DecoderBox*>(data);
  if (box->d != nullptr) bk::decoder_destroy(box->d);
  box->d = nullptr;
  END();
}

// sampleTokens(logits, V, sampling [temperature, topK, topP], uniforms, out): pick_token on each row.
napi_value SampleTokens(napi_env env, napi_callback_info info) {
  BEGIN("sampleTokens", 5);
  const int64_t V = num(&a, 1, "V");
  const int64_t rows = length(&a, 4, "out");
  if (!a.failed && V < 1) fail(&a, "V is 0");
  const float* logits = operand(&a, f32, 0, mul(&a, rows, V), "logits", "out and V", ShapeText{rows, V});
  const double* sampling = f64(&a, 2, 3, "sampling");
  const double* uniforms = operand(&a, f64, 3, rows, "uniforms", "out", ShapeText{rows});
  int32_t* out = i32(&a, 4, rows, "out");
  if (a.failed) return nullptr;
  if (!(sampling[0] >= 0) || !(sampling[1] >= 0) || !(sampling[2] > 0)) {
    fail(&a, "sampling is temperature %g, top-k %g, top-p %g", sampling[0], sampling[1], sampling[2]);
    return nullptr;
  }
  for (int64_t r = 0; r < rows; ++r) out[r] = bk::pick_token(logits + r * V, V, sampling[0], static_cast<int64_t>(sampling[1]), sampling[2], uniforms[r]);
  END();
}

napi_value string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value Info(napi_env env, napi_callback_info) { return string(env, bk::blas_info()); }
// decoderKernels(): "avx512", "avx2" or "portable", the decoders' linear-layer kernels in this process.
napi_value DecoderKernels(napi_env env, napi_callback_info) { return string(env, bk::decoder_kernels()); }
napi_value BlasName(napi_env env, napi_callback_info) { return string(env, bk::blas_name()); }

// Bumped whenever a function is added or changes its arguments; addon.ts refuses an addon built from
// other sources (a stale build/ after a failed rebuild, say).
constexpr int32_t kAbi = 9;

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
      {"rmsNorm", RmsNorm},
      {"rmsNormGrad", RmsNormGrad},
      {"causalAttention", CausalAttention},
      {"causalAttentionGrad", CausalAttentionGrad},
      {"dropoutMask", DropoutMask},
      {"rope", Rope},
      {"geluGrad", GeluGrad},
      {"gatedActivation", GatedActivation},
      {"gatedActivationGrad", GatedActivationGrad},
      {"mlpActivation", MlpActivation},
      {"mlpActivationGrad", MlpActivationGrad},
      {"expertCombine", ExpertCombine},
      {"expertCombineGrad", ExpertCombineGrad},
      {"crossEntropy", CrossEntropy},
      {"crossEntropyGrad", CrossEntropyGrad},
      {"mhaAttentionDropout", MhaAttentionDropout},
      {"mhaAttentionDropoutGrad", MhaAttentionDropoutGrad},
      {"headDropoutMasks", HeadDropoutMasks},
      {"dropout", Dropout},
      {"dropoutGrad", DropoutGrad},
      {"aleaFill", AleaFill},
      {"reluGrad", ReluGrad},
      {"optimizerStep", OptimizerStep},
      {"sumSquares", SumSquares},
      {"sgemm", Sgemm},
      {"setThreads", SetThreads},
      {"failAllocationAfter", FailAllocationAfter},
      {"info", Info},
      {"blasName", BlasName},
      {"decoderCreate", DecoderCreate},
      {"decoderStep", DecoderStep},
      {"decoderProfile", DecoderProfile},
      {"decoderDispose", DecoderDispose},
      {"decoderKernels", DecoderKernels},
      {"sampleTokens", SampleTokens},
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

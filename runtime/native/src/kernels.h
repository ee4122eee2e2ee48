// The compute kernels of the native tfjs backend, on raw float32 / 4-byte buffers. addon.cc binds them
// to JavaScript. This header is shared by two translation units built with different instruction sets
// (kernels.cc for x86-64-v3, addon.cc for the baseline), so it declares plain functions only: an inline
// function or template defined here would be compiled twice and the linker could keep the AVX2 copy
// for the baseline code that runs before the CPU check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bk {

constexpr int kMaxRank = 8;

// Element-wise functions of one tensor. The numbering is shared with runtime/native/backend.ts.
enum UnaryOp : int32_t {
  kExp = 0,
  kLog,
  kNeg,
  kSqrt,
  kRsqrt,
  kSquare,
  kRelu,
  kRelu6,
  kErf,
  kAbs,
  kSigmoid,
  kTanh,
  kReciprocal,
  kElu,
  kLeakyRelu,  // uses alpha
  kLog1p,
  kExpm1,
  kSoftplus,
  kStep,  // uses alpha
  kSign,
  kFloor,
  kCeil,
  kSin,
  kCos,
  kGelu,  // exact erf form, x * 0.5 * (1 + erf(x / sqrt 2)), with tfjs's erf
  kNumUnary
};

// Element-wise functions of two tensors, with broadcasting.
enum BinaryOp : int32_t {
  kAdd = 0,
  kSub,
  kMul,
  kDiv,
  kMaximum,
  kMinimum,
  kSquaredDifference,
  kPow,
  kNumBinary
};

enum ReduceOp : int32_t { kSum = 0, kMean, kMax, kMin, kProd, kNumReduce };

// ---- threads (threads.cc) ----

// One part of a parallel loop: [begin, end) of the range, and the part's number.
typedef void (*RangeFn)(void* ctx, int64_t begin, int64_t end, int64_t part);
// Runs fn over [0, n) cut into `parts` fixed ranges (part i = [n*i/parts, n*(i+1)/parts)), spread over the
// pool's threads, the caller's included. Returns when every part has run. The ranges are the same however
// many threads run them, so per-part partial results combined in order are deterministic.
void parallel_for(int64_t n, int64_t parts, RangeFn fn, void* ctx);
// Threads a parallel loop uses (the caller included); set_pool_threads changes it (at least 1).
int pool_threads();
void set_pool_threads(int n);

// The thread count a BLAS library would pick: the first of OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS and
// OMP_NUM_THREADS that is a positive number, else the cores this process may run on.
int default_thread_count();

// ---- memory (threads.cc) ----

// malloc that records a failure instead of returning null silently: a kernel that gets null skips its
// work, and addon.cc, which checks take_out_of_memory() after every kernel, throws a JavaScript error
// naming the op. Safe to call from pool threads.
void* checked_malloc(size_t bytes);
// Whether an allocation failed since the last call (and clears it).
bool take_out_of_memory();
// Fault injection for tests: the n-th checked allocation from now (1: the next) fails; 0 disarms.
void fail_allocation_after(int64_t n);

// ---- the BLAS of this build (blas_cblas.cc for OpenBLAS or Accelerate, blas_builtin.cc) ----

// Called once when the addon loads: the pool takes the thread count the BLAS library would have used
// (see default_thread_count), and a threaded BLAS library itself is set to one thread.
void init_threads();
// Sets the number of threads the kernels use; 0 leaves it. A BLAS library stays at one (threads.cc).
void set_blas_threads(int n);
int get_blas_threads();
// What runs the matrix products, in a few words: "OpenBLAS 0.3.21", "built-in GEMM, AVX2".
const char* blas_name();
// A longer description of the BLAS build, for the build log.
const char* blas_info();

void unary(int32_t op, const float* x, float* out, int64_t n, float alpha);

// out = op(a, b) broadcast to outShape. All three shapes have `rank` entries (a's and b's padded with
// leading 1s); a dimension of a or b is either 1 or equal to outShape's. outShape may be larger than
// both (broadcasting to a given shape).
void binary(int32_t op, const float* a, const float* b, float* out, int32_t rank, const int32_t* outShape,
            const int32_t* aShape, const int32_t* bShape);

// x seen as [outer, mid, inner]; out [outer, inner] = reduction over mid.
void reduce(int32_t op, const float* x, float* out, int64_t outer, int64_t mid, int64_t inner);
// Index of the max (isMax) or min along mid, as int32.
void arg_reduce(bool isMax, const float* x, int32_t* out, int64_t outer, int64_t mid, int64_t inner);

// Row-wise softmax / log-softmax of x [rows, cols].
void softmax(const float* x, float* out, int64_t rows, int64_t cols, bool log);
// dx = y * (dy - sum(dy * y)) row-wise: the gradient of softmax given its output y.
void softmax_grad(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);

// c[batch] = act(op(a[ia]) x op(b[ib]) + bias). a holds matrices of M x K (K x M when transA), b of
// K x N (N x K when transB). aIdx / bIdx give for each output batch the input batch to use; null means
// "the same index" for a batched operand (count > 1) and "always 0" for a single matrix (count == 1).
// bias, when not null, has N values and is added to every row. act: 0 none, 1 relu, 2 relu6,
// 3 sigmoid, 4 leakyrelu(alpha), 5 elu. With accumulate, c += op(a) x op(b) instead (no bias/act).
void matmul(const float* a, const float* b, float* c, const float* bias, int64_t batch, int64_t aCount,
            int64_t bCount, const int32_t* aIdx, const int32_t* bIdx, int64_t M, int64_t N, int64_t K,
            bool transA, bool transB, int32_t act, float alpha, bool accumulate);

// Applies a fused-matmul activation in place (the same codes as matmul's act).
void activation(int32_t act, float* x, int64_t n, float alpha);

// Copies a box of `size` from src (shape srcShape, starting at srcBegin) into dst (shape dstShape,
// starting at dstBegin). Elements are 4 bytes of any type. Slice, pad, concat and split all use it.
void copy_region(const uint32_t* src, uint32_t* dst, int32_t rank, const int32_t* size, const int32_t* srcShape,
                 const int32_t* srcBegin, const int32_t* dstShape, const int32_t* dstBegin);

// out = x transposed by perm (4-byte elements).
void transpose(const uint32_t* x, uint32_t* out, int32_t rank, const int32_t* shape, const int32_t* perm);

// x seen as [outer, axisDim, inner]; out [outer, n, inner] picks rows idx[0..n). Returns -1 when all
// indices are in range, else the position of the first bad one (out is then unspecified).
int64_t gather(const uint32_t* x, const int32_t* idx, uint32_t* out, int64_t outer, int64_t axisDim,
               int64_t inner, int64_t n);

// out [numSegments, inner] = sum of rows of x [rows, inner] by segment id; ids outside the range are
// dropped, as TensorFlow does.
void unsorted_segment_sum(const float* x, const int32_t* ids, float* out, int64_t rows, int64_t inner,
                          int64_t numSegments);

void one_hot(const int32_t* idx, float* out, int64_t n, int64_t depth, float on, float off);

void fill(float* out, int64_t n, float value);

// --- Fused training ops (runtime/native/fused.ts) ---

// Layer normalization over the last axis of x [rows, C]: y = (x - mean) * rstd * gamma + beta. Saves
// mean and rstd (rows each) for the backward pass.
void layer_norm(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                int64_t rows, int64_t C, float eps);
// dx, and dgamma/dbeta summed over rows (either may be null).
void layer_norm_grad(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                     float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t C);

// RMS normalization over the last axis of x [rows, C]: y = x * rstd * gamma, rstd = 1 / sqrt(mean(x^2) +
// eps). Saves rstd (rows) for the backward pass.
void rms_norm(const float* x, const float* gamma, float* y, float* rstd, int64_t rows, int64_t C, float eps);
// dx, and dgamma summed over rows (either may be null).
void rms_norm_grad(const float* x, const float* gamma, const float* rstd, const float* dy, float* dx, float* dgamma,
                   int64_t rows, int64_t C);

// GELU (exact erf form) gradient: dx = dy * gelu'(x).
void gelu_grad(const float* x, const float* dy, float* dx, int64_t n);

// The gated MLP's elementwise part (runtime/ops/gated-activation.ts): y = act(gate) * up over n values,
// act by its code (kGated*, in the order of GatedActivation in runtime/native/addon.ts).
enum GatedAct : int32_t { kGatedRelu = 0, kGatedGelu = 1, kGatedSilu = 2, kGatedRelu2 = 3 };
void gated_activation(const float* gate, const float* up, float* y, int64_t n, int32_t act);
// dgate = dy * up * act'(gate), dup = dy * act(gate).
void gated_activation_grad(const float* gate, const float* up, const float* dy, float* dgate, float* dup, int64_t n,
                           int32_t act);

// One activation (a GatedAct code) of n values, y = act(x), and its gradient dx = dy * act'(x): the
// ungated MLP's middle, where the activation is not one of the tf ops the backend already has (the
// experts of a mixture run it on their own rows).
void mlp_activation(const float* x, float* y, int64_t n, int32_t act);
void mlp_activation_grad(const float* x, const float* dy, float* dx, int64_t n, int32_t act);

// A mixture of experts' weighted sum (runtime/ops/expert-mix.ts): the experts' outputs o [M, C], one row
// per (token, choice) grouped by expert, and pos [N, K] the row of token n's k-th choice. y [N, C] =
// sum over k of w[n, k] * o[pos[n, k]] (w null: weights of 1, which sums the rows of a gradient back
// onto their tokens). Each row of o is one choice's, so pos holds no row twice.
void expert_combine(const float* o, const int32_t* pos, const float* w, float* y, int64_t N, int64_t K, int64_t C);
// Its gradient: dw [N, K] = dy[n] . o[pos[n, k]], and dO [M, C] with row pos[n, k] = w[n, k] * dy[n].
void expert_combine_grad(const float* o, const int32_t* pos, const float* w, const float* dy, float* dO, float* dw,
                         int64_t N, int64_t K, int64_t C);

// Mean cross-entropy of logits [rows, V] against integer targets. Writes the row-wise softmax to
// probs (kept for the backward pass) and returns the loss.
double cross_entropy(const float* logits, const int32_t* targets, float* probs, int64_t rows, int64_t V);
// dlogits = (probs - onehot(targets)) * scale.
void cross_entropy_grad(const float* probs, const int32_t* targets, float* dlogits, int64_t rows, int64_t V,
                        float scale);

// What attention may do to its scores besides the causal mask (runtime/ops/score-shaping.ts), after the
// scaling and in this order: the cap s -> softcap * tanh(s / softcap), ALiBi's bias -slopes[h] * (i - j)
// for query position i, key position j and query head h, then the causal mask and a sliding window that
// leaves each query itself and the window - 1 positions before it. All zero (null): the causal mask
// alone, exactly as without. A plain aggregate (no constructor), as this header must declare no inline
// functions.
struct ScoreShaping {
  int64_t window;         // 0: no window
  const double* slopes;   // one per query head, or null: no bias
  float softcap;          // 0: no cap
  // With a cap: 1 - tanh^2(s / softcap) for each weight, laid out as p (zero where masked), which the
  // gradient needs: written by the forward kernels when not null, read by the gradient kernels.
  float* capGrad;
};

// All heads of causal scaled dot-product attention at once, out = softmax(mask(q k^T * scale)) v per head,
// from a fused projection qkv [B*T, 3*H*D] whose columns are, per head h, its q, k and v (D each). out
// [B, T, H*D] holds the heads side by side (their concatenation); p [B, H, T, T] the probabilities (zero
// above the diagonal).
// Every attention kernel below takes a ScoreShaping (the causal mask alone when all zero).
void mha_attention(const float* qkv, float* out, float* p, int64_t B, int64_t T, int64_t H, int64_t D, float scale,
                   const ScoreShaping& shaping);
// dqkv [B*T, 3*H*D] from dout [B, T, H*D]; scratch needs T*T floats.
void mha_attention_grad(const float* qkv, const float* p, const float* dout, float* dqkv, float* scratch, int64_t B,
                        int64_t T, int64_t H, int64_t D, float scale, const ScoreShaping& shaping);

// All heads with dropout on the attention weights (as tf.dropout after the softmax): mask [B, H, T, T]
// holds the keep flags (head_dropout_masks); out = (p * mask / keep) v. p is saved undropped. Without a
// mask (null), as mha_attention.
void mha_attention_dropout(const float* qkv, float* out, float* p, const uint8_t* mask, float keep, int64_t B,
                           int64_t T, int64_t H, int64_t D, float scale, const ScoreShaping& shaping);
void mha_attention_dropout_grad(const float* qkv, const float* p, const uint8_t* mask, float keep, const float* dout,
                                float* dqkv, float* scratch, int64_t B, int64_t T, int64_t H, int64_t D, float scale,
                                const ScoreShaping& shaping);

// Grouped causal attention of projected heads: q [B, H, Tq, D], k and v [B, KV, Tk, D] (Tk >= Tq; the
// queries are the last Tq positions), query head h reading kv head h / (H / KV). out [B, H, Tq, D], p
// [B, H, Tq, Tk] the weights before dropout (zero where masked). mask [B, H, Tq, Tk] (or null) holds the
// keep flags of dropout on the weights. Tq and Tk must be > 0 where B*H*D > 0.
void causal_attention(const float* q, const float* k, const float* v, float* out, float* p, const uint8_t* mask,
                      float keep, int64_t B, int64_t H, int64_t KV, int64_t Tq, int64_t Tk, int64_t D, float scale,
                      const ScoreShaping& shaping);
// dq as q; dk, dv as k, v, each summed over the query heads of its group.
void causal_attention_grad(const float* q, const float* k, const float* v, const float* p, const uint8_t* mask,
                           float keep, const float* dout, float* dq, float* dk, float* dv, int64_t B, int64_t H,
                           int64_t KV, int64_t Tq, int64_t Tk, int64_t D, float scale, const ScoreShaping& shaping);
// tf.dropout's keep flags for n values from one seed (tf.randomUniform's generator): mask [n].
void dropout_mask_from_seed(uint8_t* mask, int64_t n, double seed, float keep);

// Rotary position embedding of x [N, T, hs] (N = B * H): the leading 2 * half features of row t, as
// halves (x1, x2), rotated by the angles of position offset + t, whose cos and sin are row offset + t of
// the tables [P, half]; the rest pass through. inverse rotates the other way (the gradient).
void rope(const float* x, const float* cosv, const float* sinv, float* y, int64_t N, int64_t T, int64_t hs,
          int64_t half, int64_t offset, bool inverse);

// Column sums: out[j] = sum_i x[i, j] for x [rows, cols] (the bias gradient of a linear layer).
void col_sum(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate);

// dx = dy where x > 0, else 0 (NaN where x is NaN): ReLU's gradient, from its input or its output.
void relu_grad(const float* x, const float* dy, float* dx, int64_t n);

// ---- exact.cc: bit-for-bit reproductions of tfjs op sequences ----

// seedrandom's Alea generator (what tf.randomUniform(shape, 0, 1, 'float32', seed) draws from).
struct AleaState {
  uint64_t s0, s1, s2, c;
};
void alea_init(double seed, AleaState* st);
// The next n numbers as tf.randomUniform stores them (float32).
void alea_fill(AleaState* st, float* out, int64_t n);
// tf.dropout's keep flags (1 = kept): floor(u + keep) over the next n numbers.
void dropout_mask(AleaState* st, uint8_t* mask, int64_t n, float keep);
// Each head's flags for its attention weights [B, T, T] (head h from seeds[h]), into mask [B, H, T, T].
void head_dropout_masks(const double* seeds, uint8_t* mask, int64_t B, int64_t H, int64_t T, float keep);
// y = tf.dropout(x, 1 - keep, undefined, seed), saving the flags; and its gradient.
void dropout(const float* x, float* y, uint8_t* mask, int64_t n, double seed, float keep);
void dropout_grad(const float* dy, const uint8_t* mask, float* dx, int64_t n, float keep);

// The constants of one optimizer step, each the float32 its tf op would use.
struct OptimConfig {
  int32_t type;     // 0 sgd, 1 adam / adamw
  int32_t decoupled;  // AdamW's weight decay applies
  int32_t scaled;   // gradients are multiplied by gradScale first
  float lr;         // sgd
  float b1, oneMinusB1, b2, oneMinusB2, sqrtBc2, eps, stepSize, decay;
  float gradScale;
};
// Updates `count` parameters p[k] (sizes[k] elements) in place from gradients g[k], with moments m[k],
// v[k] (adam only), as runtime/train/optimizer.ts's tf ops do.
void optimizer_step(const OptimConfig& cfg, int64_t count, float* const* p, const float* const* g, float* const* m,
                    float* const* v, const int64_t* sizes);
// out[k] = float32(sum of float32 squares of x[k], summed in double).
void sum_squares(int64_t count, const float* const* x, const int64_t* sizes, float* out);

}  // namespace bk

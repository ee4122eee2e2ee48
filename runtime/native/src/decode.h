// The decoder: a model's decode plan (compiler/serialize/decode/plan.ts, flattened by
// runtime/native/decode.ts) run one token step at a time over buffers allocated once, with the KV cache of
// every attention application written in place, and the next token drawn from the logits in the same
// call. decode_addon.cc binds it. Plain functions only, like kernels.h: this header is read by units
// built for different instruction sets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bk {

struct Decoder;

// The step kinds, numbered as in runtime/native/decode.ts.
enum DecodeStepKind : int32_t {
  kStepEmbed = 0,
  kStepPositions,
  kStepLinear,
  kStepLayerNorm,
  kStepRmsNorm,
  kStepActivation,
  kStepGated,
  kStepAdd,
  kStepScale,
  kStepScaleBy,
  kStepSoftcap,
  kStepRope,
  kStepAttention,
  kStepExperts,
  kNumStepKinds
};

// Profile slots: one per step kind, then the draw of the tokens, then the whole steps and their count.
constexpr int kProfileSampling = kNumStepKinds;
constexpr int kProfileTotal = kNumStepKinds + 1;
constexpr int kProfileCalls = kNumStepKinds + 2;
constexpr int kProfileSlots = kNumStepKinds + 3;

// Builds a decoder for batches of up to maxBatch sequences of up to the plan's block size. The tensors
// are the model's arrays, read in place (the caller keeps them alive and unchanged while the decoder
// lives). Returns null with a message in `error` when the plan is malformed or a tensor is too short.
Decoder* decoder_create(const int32_t* ints, int64_t nInts, const double* floats, int64_t nFloats, const float* const* tensors,
                        const int64_t* tensorLengths, int64_t nTensors, int32_t maxBatch, bool profile, char* error,
                        size_t errorSize);
void decoder_destroy(Decoder* d);

int32_t decoder_vocab(const Decoder* d);
int32_t decoder_block_size(const Decoder* d);
int32_t decoder_max_batch(const Decoder* d);

// One step: tokens [B, T] are the positions past … past+T-1 of every sequence (past + T <= block size;
// past 0 starts the cache afresh). Writes each sequence's next token to out[B], drawn by pick_token with
// uniforms[b]; logits [B, vocab], when not null, gets the last position's logits. False with `error` on
// bad arguments (a token outside the vocabulary, sizes out of range) or when memory runs out.
bool decoder_step(Decoder* d, const int32_t* tokens, int32_t B, int32_t T, int32_t past, double temperature, int32_t topK,
                  double topP, const double* uniforms, int32_t* out, float* logits, char* error, size_t errorSize);

// The kernels of the decoders' linear layers in this process: "avx512" (decode_avx512.cc, chosen at run
// time), "avx2", or "portable" (a build without AVX2).
const char* decoder_kernels();

// Nanoseconds spent per profile slot since the decoder was made (zeros unless made with profile).
void decoder_profile(const Decoder* d, double* out);

// runtime/sample.ts's pickToken on one row of logits: the most likely token at temperature 0; else the
// draw u in [0, 1) among the top k (0: all) and the nucleus of top-p (>= 1: all) of softmax(logits / t),
// in double precision with the same order of operations and ties, so both give the same token.
int32_t pick_token(const float* logits, int64_t V, double temperature, int64_t topK, double topP, double u);

}  // namespace bk

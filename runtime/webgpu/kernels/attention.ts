// Multi-head causal self-attention on WebGPU (runtime/ops/attention.ts has the math), every head at once:
//   qkv = x · Wcatᵀ (+ bcat)        one matrix product for all heads' projections (tfjs-webgpu's matmul);
//                                   Wcat is the 3H weights packed side by side by buffer copies
//   per (batch, head, query row): one workgroup computes the row's scores q·kⱼ·scale for j ≤ i, its
//   softmax P (kept for the gradient), and the output row Σⱼ P'ᵢⱼ vⱼ, where P' is P with dropout's keep
//   flags applied; the heads' outputs land side by side, (B, T, H·hs), with no concat.
// Backward, with dO the output's gradient:
//   dS = P ∘ (dP - rowsum(dP ∘ P)), dP = (dO · vᵀ) ∘ keep/(1-rate)  one workgroup per row
//   dq = dS k · scale, dk = dSᵀ q · scale, dv = P'ᵀ dO               one thread per entry of dqkv
//   dx = dqkv · Wcat, dWcat = dqkvᵀ x (two matmuls), split back into the 3H weights by buffer copies.
// The tfjs composite runs ~10 kernels per head forward (three projections, matmul, scale, mask, softmax,
// matmul, concat) and ~3 times as many backward.
//
// Dropout's keep flags are tf.dropout's for each head's seed: tf.randomUniform's generator (seedrandom's
// alea, which tfjs itself uses) run on the CPU, as the reference does, and uploaded one bit per weight.
import { createRequire } from "node:module";
import type { TensorInfo } from "@tensorflow/tfjs";
import { gradientStash, MULTI_HEAD_ATTENTION, type MultiHeadAttentionAttrs } from "../../ops/index.js";
import { tf } from "../../nn/tf.js";
import { bytesOf, copy, dispose, output, reshaped, run, upload, uniforms, type Kernel, type WebGPUBackendLike } from "../dispatch.js";
import { buffers, ENTRY, flatIndex, reductions, uniformStruct, WG_INDEX } from "../wgsl.js";
import { define, keepForGradient, kept, sizeOf } from "./define.js";

const WG = 64;

const kernels = new Map<string, Kernel>();

function cached(key: string, code: () => string): Kernel {
  let k = kernels.get(key);
  if (!k) kernels.set(key, (k = { key, code: code() }));
  return k;
}

/** `keep(e)`: whether weight e survived dropout (bit e of the mask). */
const KEEP_FN = `fn keep(e: u32) -> bool { return ((mask[e >> 5u] >> (e & 31u)) & 1u) == 1u; }`;

/** Where the row's workgroup sits: batch b, head h, query row i, and the offset of its weights in P. */
const ROW = `
  ${WG_INDEX}
  if (wg >= u.B * u.H * u.T) { return; }
  let i = wg % u.T;
  let h = (wg / u.T) % u.H;
  let b = wg / (u.T * u.H);
  let W = 3u * u.H * D;
  let prow = wg * u.T;`;

const ROW_UNIFORMS = [["B", "u32"], ["T", "u32"], ["H", "u32"], ["scale", "f32"], ["invKeep", "f32"]] as const;

function forwardKernel(D: number, dropout: boolean): Kernel {
  return cached(`attention/${D}/${dropout}`, () => {
    const list = [["qkv", "read", "f32"], ...(dropout ? [["mask", "read", "u32"]] : []), ["p", "read_write", "f32"], ["o", "read_write", "f32"]] as const;
    const parts = Math.max(1, Math.floor(WG / D));
    return `
${buffers(list as never)}
${uniformStruct(list.length, ROW_UNIFORMS)}
${reductions(WG)}
${dropout ? KEEP_FN : ""}
const D = ${D}u;
var<workgroup> qrow: array<f32, ${D}>;
var<workgroup> partial: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(${ENTRY}) {
  lid_ = lid;
  ${ROW}
  let qoff = (b * u.T + i) * W + 3u * h * D;
  for (var d = lid; d < D; d = d + ${WG}u) { qrow[d] = qkv[qoff + d]; }
  workgroupBarrier();
  var m = -3.4028234e38;
  for (var j = lid; j <= i; j = j + ${WG}u) {
    let koff = (b * u.T + j) * W + (3u * h + 1u) * D;
    var s = 0.0;
    for (var d = 0u; d < D; d = d + 1u) { s = s + qrow[d] * qkv[koff + d]; }
    s = s * u.scale;
    p[prow + j] = s;
    m = max(m, s);
  }
  let rowMax = maxAll(m);
  var sum = 0.0;
  for (var j = lid; j <= i; j = j + ${WG}u) {
    let e = exp(p[prow + j] - rowMax);
    p[prow + j] = e;
    sum = sum + e;
  }
  let total = sumAll(sum);
  for (var j = lid; j < u.T; j = j + ${WG}u) {
    var w = 0.0;
    if (j <= i) { w = p[prow + j] / total; }
    p[prow + j] = w;
  }
  storageBarrier();
  // out[i] = Σ_j P'[i, j] v[j]: thread (part, d) sums every ${parts}th j.
  let voff = (3u * h + 2u) * D;
  let ooff = (b * u.T + i) * u.H * D + h * D;
  for (var d0 = 0u; d0 < D; d0 = d0 + ${WG}u) {
    let d = d0 + lid % min(D, ${WG}u);
    let part = lid / min(D, ${WG}u);
    var acc = 0.0;
    if (part < ${parts}u && d < D) {
      for (var j = part; j <= i; j = j + ${parts}u) {
        var w = p[prow + j];
        ${dropout ? "w = select(0.0, w * u.invKeep, keep(prow + j));" : ""}
        acc = acc + w * qkv[(b * u.T + j) * W + voff + d];
      }
    }
    partial[lid] = acc;
    workgroupBarrier();
    if (part == 0u && d < D) {
      var s = 0.0;
      for (var k = 0u; k < ${parts}u; k = k + 1u) { s = s + partial[k * min(D, ${WG}u) + lid]; }
      o[ooff + d] = s;
    }
    workgroupBarrier();
  }
}`;
  });
}

// dP = dO vᵀ (with the keep flags), then dS = P ∘ (dP - Σⱼ dP ∘ P), one workgroup per row.
function scoresGradKernel(D: number, dropout: boolean): Kernel {
  return cached(`attentionScoresGrad/${D}/${dropout}`, () => {
    const list = [["qkv", "read", "f32"], ["p", "read", "f32"], ["dout", "read", "f32"], ...(dropout ? [["mask", "read", "u32"]] : []), ["ds", "read_write", "f32"]] as const;
    return `
${buffers(list as never)}
${uniformStruct(list.length, ROW_UNIFORMS)}
${reductions(WG)}
${dropout ? KEEP_FN : ""}
const D = ${D}u;
var<workgroup> drow: array<f32, ${D}>;
@compute @workgroup_size(${WG})
fn main(${ENTRY}) {
  lid_ = lid;
  ${ROW}
  let doff = (b * u.T + i) * u.H * D + h * D;
  for (var d = lid; d < D; d = d + ${WG}u) { drow[d] = dout[doff + d]; }
  workgroupBarrier();
  var acc = 0.0;
  for (var j = lid; j <= i; j = j + ${WG}u) {
    let voff = (b * u.T + j) * W + (3u * h + 2u) * D;
    var dp = 0.0;
    for (var d = 0u; d < D; d = d + 1u) { dp = dp + drow[d] * qkv[voff + d]; }
    ${dropout ? "dp = select(0.0, dp * u.invKeep, keep(prow + j));" : ""}
    ds[prow + j] = dp;
    acc = acc + dp * p[prow + j];
  }
  let rowDot = sumAll(acc);
  for (var j = lid; j < u.T; j = j + ${WG}u) {
    var g = 0.0;
    if (j <= i) { g = p[prow + j] * (ds[prow + j] - rowDot); }
    ds[prow + j] = g;
  }
}`;
  });
}

// One thread per entry of dqkv (rows, 3·H·D): dq, dk or dv of one head at one position.
function projectionsGradKernel(D: number, dropout: boolean): Kernel {
  return cached(`attentionProjectionsGrad/${D}/${dropout}`, () => {
    const list = [["qkv", "read", "f32"], ["p", "read", "f32"], ["ds", "read", "f32"], ["dout", "read", "f32"], ...(dropout ? [["mask", "read", "u32"]] : []), ["dqkv", "read_write", "f32"]] as const;
    return `
${buffers(list as never)}
${uniformStruct(list.length, ROW_UNIFORMS)}
${dropout ? KEEP_FN : ""}
const D = ${D}u;
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  ${flatIndex(256)}
  let W = 3u * u.H * D;
  if (idx >= u.B * u.T * W) { return; }
  let r = idx / W;
  let c = idx - r * W;
  let b = r / u.T;
  let t = r - b * u.T;
  let h = c / (3u * D);
  let which = (c / D) % 3u;
  let d = c % D;
  let base = (b * u.H + h) * u.T * u.T;
  var acc = 0.0;
  if (which == 0u) {
    // dq[t] = scale · Σ_{j ≤ t} dS[t, j] k[j]
    for (var j = 0u; j <= t; j = j + 1u) { acc = acc + ds[base + t * u.T + j] * qkv[(b * u.T + j) * W + (3u * h + 1u) * D + d]; }
    acc = acc * u.scale;
  } else if (which == 1u) {
    // dk[t] = scale · Σ_{i ≥ t} dS[i, t] q[i]
    for (var i = t; i < u.T; i = i + 1u) { acc = acc + ds[base + i * u.T + t] * qkv[(b * u.T + i) * W + 3u * h * D + d]; }
    acc = acc * u.scale;
  } else {
    // dv[t] = Σ_{i ≥ t} P'[i, t] dO[i]
    for (var i = t; i < u.T; i = i + 1u) {
      let e = base + i * u.T + t;
      var w = p[e];
      ${dropout ? "w = select(0.0, w * u.invKeep, keep(e));" : ""}
      acc = acc + w * dout[(b * u.T + i) * u.H * D + h * D + d];
    }
  }
  dqkv[idx] = acc;
}`;
  });
}

// rows += bias, in place.
const ADD_BIAS: Kernel = {
  key: "attentionAddBias",
  code: `
${buffers([["bias", "read", "f32"], ["y", "read_write", "f32"]])}
${uniformStruct(2, [["n", "u32"], ["width", "u32"]])}
@compute @workgroup_size(256)
fn main(${ENTRY}) {
  ${flatIndex(256)}
  if (idx >= u.n) { return; }
  y[idx] = y[idx] + bias[idx % u.width];
}`,
};

// out[c] = Σ_rows x[r, c].
const COLUMN_SUM: Kernel = {
  key: "attentionColumnSum",
  code: `
${buffers([["x", "read", "f32"], ["out", "read_write", "f32"]])}
${uniformStruct(2, [["rows", "u32"], ["width", "u32"]])}
@compute @workgroup_size(64)
fn main(${ENTRY}) {
  ${flatIndex(64)}
  if (idx >= u.width) { return; }
  var s = 0.0;
  for (var r = 0u; r < u.rows; r = r + 1u) { s = s + x[r * u.width + idx]; }
  out[idx] = s;
}`,
};

/** tfjs-webgpu's own matmul kernel, (1, M, K) × (1, K, N) with transposes, as its BatchMatMul runs it. */
function matMul(b: WebGPUBackendLike, x: TensorInfo, y: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
  const k = tf.getKernel("BatchMatMul", "webgpu");
  if (!k) throw new Error("tfjs-backend-webgpu has no BatchMatMul kernel");
  return k.kernelFunc({ inputs: { a: x, b: y }, backend: b as never, attrs: { transposeA, transposeB } }) as TensorInfo;
}

/** A new tensor holding the given tensors' values one after another (by buffer copies). */
function pack(b: WebGPUBackendLike, parts: readonly TensorInfo[], shape: number[]): TensorInfo {
  const out = output(b, shape);
  let offset = 0;
  copy(
    b,
    parts.map((t) => {
      const c = { from: t, fromOffset: 0, to: out, toOffset: offset, bytes: bytesOf(t) };
      offset += c.bytes;
      return c;
    }),
  );
  return out;
}

/** The inverse of pack: `count` new tensors of `shape` cut from t in order. */
function unpack(b: WebGPUBackendLike, t: TensorInfo, count: number, shape: number[]): TensorInfo[] {
  const outs = Array.from({ length: count }, () => output(b, shape));
  const bytes = 4 * sizeOf(shape);
  copy(b, outs.map((o, i) => ({ from: t, fromOffset: i * bytes, to: o, toOffset: 0, bytes })));
  return outs;
}

type Alea = () => number;
const seedrandom = createRequire(import.meta.url)("seedrandom") as { alea(seed: string): Alea };

/**
 * Every head's keep flags, one bit per weight at ((b·H + h)·T + i)·T + j: head h's are tf.dropout(wei,
 * rate, seeds[h])'s on its (B, T, T) weights, floor(u + keep) in float32 with u from tf.randomUniform's
 * generator seeded as tfjs seeds it.
 */
export function keepFlags(seeds: readonly number[], B: number, T: number, rate: number): Uint32Array {
  const H = seeds.length;
  const words = new Uint32Array(Math.ceil((B * H * T * T) / 32));
  const keep = Math.fround(1 - rate);
  for (let h = 0; h < H; h++) {
    const random = seedrandom.alea(seeds[h]!.toString());
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < T; i++) {
        let e = ((b * H + h) * T + i) * T;
        for (let j = 0; j < T; j++, e++) {
          if (Math.fround(Math.fround(random()) + keep) >= 1) words[e >>> 5]! |= 1 << (e & 31);
        }
      }
    }
  }
  return words;
}

function shapes(x: TensorInfo, a: MultiHeadAttentionAttrs): { B: number; T: number; C: number; rows: number; H: number; D: number; W: number } {
  const C = x.shape[x.shape.length - 1]!;
  const T = x.shape[x.shape.length - 2]!;
  const rows = sizeOf(x.shape) / C;
  return { B: rows / T, T, C, rows, H: a.heads, D: a.headSize, W: 3 * a.heads * a.headSize };
}

function rowUniforms(B: number, T: number, a: MultiHeadAttentionAttrs): ArrayBuffer {
  return uniforms([["u32", B], ["u32", T], ["u32", a.heads], ["f32", a.scale], ["f32", a.dropoutRate > 0 ? Math.fround(1 / Math.fround(1 - a.dropoutRate)) : 1]]);
}

const attention = define(MULTI_HEAD_ATTENTION.name, (b, { inputs, attrs }) => {
  const a = attrs as unknown as MultiHeadAttentionAttrs;
  const x = inputs["x"]!;
  const { B, T, C, rows, H, D, W } = shapes(x, a);
  const ws = Array.from({ length: 3 * H }, (_, i) => inputs[`w${i}`]!);
  const hasBias = inputs["b0"] !== undefined;
  const wcat = pack(b, ws, [W, C]);
  const qkv3 = matMul(b, reshaped(x, [1, rows, C]), reshaped(wcat, [1, W, C]), false, true);
  const qkv = reshaped(qkv3, [rows * W]);
  if (hasBias) {
    const bcat = pack(b, Array.from({ length: 3 * H }, (_, i) => inputs[`b${i}`]!), [W]);
    run(b, ADD_BIAS, [bcat, qkv], uniforms([["u32", rows * W], ["u32", W]]), Math.ceil((rows * W) / 256));
    dispose(b, bcat);
  }
  const dropout = a.dropoutRate > 0;
  const mask = dropout ? upload(b, [Math.ceil((B * H * T * T) / 32)], new Int32Array(keepFlags(a.seeds, B, T, a.dropoutRate).buffer)) : undefined;
  const p = output(b, [B * H * T * T]);
  const o = output(b, [...x.shape.slice(0, -1), H * D]);
  run(b, forwardKernel(D, dropout), [qkv, ...(mask ? [mask] : []), p, reshaped(o, [rows * H * D])], rowUniforms(B, T, a), B * H * T);
  const made: Record<string, TensorInfo> = { wcat, qkv, p };
  if (mask) made["mask"] = mask;
  keepForGradient(b, attrs, { x }, made);
  return o;
});

const attentionGrad = define(MULTI_HEAD_ATTENTION.gradName!, (b, { inputs, attrs }) => {
  const a = attrs as unknown as MultiHeadAttentionAttrs;
  const s = kept(attrs, MULTI_HEAD_ATTENTION);
  const { x, wcat, qkv, p, mask } = s;
  const { B, T, C, rows, H, D, W } = shapes(x!, a);
  const dropout = mask !== undefined;
  const dout = reshaped(inputs["dy"]!, [rows * H * D]);
  const ds = output(b, [B * H * T * T]);
  const u = rowUniforms(B, T, a);
  run(b, scoresGradKernel(D, dropout), [qkv!, p!, dout, ...(mask ? [mask] : []), ds], u, B * H * T);
  const dqkv = output(b, [rows, W]);
  run(b, projectionsGradKernel(D, dropout), [qkv!, p!, ds, dout, ...(mask ? [mask] : []), reshaped(dqkv, [rows * W])], u, Math.ceil((rows * W) / 256));
  dispose(b, ds);
  const dx = matMul(b, reshaped(dqkv, [1, rows, W]), reshaped(wcat!, [1, W, C]), false, false);
  const dwcat = matMul(b, reshaped(dqkv, [1, rows, W]), reshaped(x!, [1, rows, C]), true, false);
  const outs = [reshaped(dx, x!.shape.slice()), ...unpack(b, dwcat, 3 * H, [D, C])];
  dispose(b, dwcat);
  // The biases' gradients come after the weights' when the projections have biases (the op layer lists
  // every float input, in order, among the stash's gradInputs).
  if (gradientStash(attrs)!.gradInputs.includes("b0")) {
    const db = output(b, [W]);
    run(b, COLUMN_SUM, [dqkv, db], uniforms([["u32", rows], ["u32", W]]), Math.ceil(W / 64));
    outs.push(...unpack(b, db, 3 * H, [D]));
    dispose(b, db);
  }
  dispose(b, dqkv);
  return outs;
});

export const ATTENTION_KERNELS = [attention, attentionGrad];

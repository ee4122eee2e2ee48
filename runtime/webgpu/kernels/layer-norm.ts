// LayerNorm on WebGPU (runtime/ops/layer-norm.ts has the math). Forward: one workgroup per row computes
// the row's mean and 1/std (two passes over the row, as tf.moments does) and writes y and the two
// statistics. Backward: one workgroup per row for dx, and the column sums dgamma = Σ dy·x̂ and dbeta = Σ dy
// in two stages (partial sums over blocks of rows, then their total), so that a long batch still spreads
// over the GPU. The tfjs composite costs ~10 kernels forward and ~20 backward.
import type { TensorInfo } from "@tensorflow/tfjs";
import { LAYER_NORM, type LayerNormAttrs } from "../../ops/index.js";
import { dispose, output, reshaped, run, uniforms, type Kernel, type WebGPUBackendLike } from "../dispatch.js";
import { buffers, ENTRY, reductions, rowGroupSize, uniformStruct, WG_INDEX } from "../wgsl.js";
import { define, keepForGradient, kept, sizeOf } from "./define.js";

const forwardKernels = new Map<number, Kernel>();

function forwardKernel(size: number): Kernel {
  let k = forwardKernels.get(size);
  if (k) return k;
  const code = `
${buffers([["x", "read", "f32"], ["gamma", "read", "f32"], ["beta", "read", "f32"], ["y", "read_write", "f32"], ["stats", "read_write", "f32"]])}
${uniformStruct(5, [["rows", "u32"], ["C", "u32"], ["eps", "f32"]])}
${reductions(size)}
@compute @workgroup_size(${size})
fn main(${ENTRY}) {
  lid_ = lid;
  ${WG_INDEX}
  if (wg >= u.rows) { return; }
  let base = wg * u.C;
  var s = 0.0;
  for (var c = lid; c < u.C; c = c + ${size}u) { s = s + x[base + c]; }
  let mean = sumAll(s) / f32(u.C);
  var q = 0.0;
  for (var c = lid; c < u.C; c = c + ${size}u) { let d = x[base + c] - mean; q = q + d * d; }
  let rstd = 1.0 / sqrt(sumAll(q) / f32(u.C) + u.eps);
  for (var c = lid; c < u.C; c = c + ${size}u) { y[base + c] = (x[base + c] - mean) * rstd * gamma[c] + beta[c]; }
  if (lid == 0u) { stats[2u * wg] = mean; stats[2u * wg + 1u] = rstd; }
}`;
  k = { key: `layerNorm/${size}`, code };
  forwardKernels.set(size, k);
  return k;
}

const dxKernels = new Map<number, Kernel>();

// dx = rstd · (g - mean(g) - x̂ · mean(g · x̂)) with g = dy · gamma, per row.
function dxKernel(size: number): Kernel {
  let k = dxKernels.get(size);
  if (k) return k;
  const code = `
${buffers([["x", "read", "f32"], ["gamma", "read", "f32"], ["stats", "read", "f32"], ["dy", "read", "f32"], ["dx", "read_write", "f32"]])}
${uniformStruct(5, [["rows", "u32"], ["C", "u32"]])}
${reductions(size)}
@compute @workgroup_size(${size})
fn main(${ENTRY}) {
  lid_ = lid;
  ${WG_INDEX}
  if (wg >= u.rows) { return; }
  let base = wg * u.C;
  let mean = stats[2u * wg];
  let rstd = stats[2u * wg + 1u];
  var sg = 0.0;
  var sgx = 0.0;
  for (var c = lid; c < u.C; c = c + ${size}u) {
    let g = dy[base + c] * gamma[c];
    sg = sg + g;
    sgx = sgx + g * (x[base + c] - mean) * rstd;
  }
  let mg = sumAll(sg) / f32(u.C);
  let mgx = sumAll(sgx) / f32(u.C);
  for (var c = lid; c < u.C; c = c + ${size}u) {
    let xhat = (x[base + c] - mean) * rstd;
    dx[base + c] = rstd * (dy[base + c] * gamma[c] - mg - xhat * mgx);
  }
}`;
  k = { key: `layerNormDx/${size}`, code };
  dxKernels.set(size, k);
  return k;
}

/** Rows per partial sum of the column reductions. */
const ROW_BLOCK = 64;

// Partial column sums over one block of rows: part[blk, c] = Σ dy·x̂ and part[blk, C + c] = Σ dy.
const PARTIAL: Kernel = {
  key: "layerNormColumnPartials",
  code: `
${buffers([["x", "read", "f32"], ["stats", "read", "f32"], ["dy", "read", "f32"], ["part", "read_write", "f32"]])}
${uniformStruct(4, [["rows", "u32"], ["C", "u32"]])}
@compute @workgroup_size(64)
fn main(${ENTRY}) {
  let c = wid.x * 64u + lid;
  let blk = wid.y;
  if (c >= u.C) { return; }
  var sdg = 0.0;
  var sdb = 0.0;
  let end = min(u.rows, (blk + 1u) * ${ROW_BLOCK}u);
  for (var r = blk * ${ROW_BLOCK}u; r < end; r = r + 1u) {
    let d = dy[r * u.C + c];
    sdg = sdg + d * (x[r * u.C + c] - stats[2u * r]) * stats[2u * r + 1u];
    sdb = sdb + d;
  }
  part[blk * 2u * u.C + c] = sdg;
  part[blk * 2u * u.C + u.C + c] = sdb;
}`,
};

// The totals of the partial sums: dgamma[c] and dbeta[c].
const TOTAL: Kernel = {
  key: "layerNormColumnTotals",
  code: `
${buffers([["part", "read", "f32"], ["dgamma", "read_write", "f32"], ["dbeta", "read_write", "f32"]])}
${uniformStruct(3, [["blocks", "u32"], ["C", "u32"]])}
@compute @workgroup_size(64)
fn main(${ENTRY}) {
  let c = wid.x * 64u + lid;
  if (c >= u.C) { return; }
  var sdg = 0.0;
  var sdb = 0.0;
  for (var b = 0u; b < u.blocks; b = b + 1u) {
    sdg = sdg + part[b * 2u * u.C + c];
    sdb = sdb + part[b * 2u * u.C + u.C + c];
  }
  dgamma[c] = sdg;
  dbeta[c] = sdb;
}`,
};

const layerNorm = define(LAYER_NORM.name, (b, { inputs, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
  const C = x!.shape[x!.shape.length - 1]!;
  const rows = sizeOf(x!.shape) / C;
  const { eps } = attrs as unknown as LayerNormAttrs;
  const y = output(b, x!.shape.slice());
  const stats = output(b, [rows, 2]);
  run(b, forwardKernel(rowGroupSize(C)), [x!, gamma!, beta!, y, stats], uniforms([["u32", rows], ["u32", C], ["f32", eps]]), rows);
  keepForGradient(b, attrs, { x: x!, gamma: gamma! }, { stats });
  return y;
});

const layerNormGrad = define(LAYER_NORM.gradName!, (b, { inputs, attrs }) => {
  const { x, gamma, stats } = kept(attrs, LAYER_NORM);
  const dy = inputs["dy"]!;
  const C = x!.shape[x!.shape.length - 1]!;
  const rows = sizeOf(x!.shape) / C;
  const dx = output(b, x!.shape.slice());
  run(b, dxKernel(rowGroupSize(C)), [x!, gamma!, stats!, dy, dx], uniforms([["u32", rows], ["u32", C]]), rows);
  const [dgamma, dbeta] = columnSums(b, x!, stats!, dy, rows, C);
  return [dx, dgamma, dbeta];
});

/** dgamma = Σ_rows dy · x̂ and dbeta = Σ_rows dy. */
function columnSums(b: WebGPUBackendLike, x: TensorInfo, stats: TensorInfo, dy: TensorInfo, rows: number, C: number): [TensorInfo, TensorInfo] {
  const blocks = Math.ceil(rows / ROW_BLOCK);
  const part = output(b, [blocks, 2 * C]);
  run(b, PARTIAL, [reshaped(x, [rows * C]), stats, reshaped(dy, [rows * C]), part], uniforms([["u32", rows], ["u32", C]]), [Math.ceil(C / 64), blocks, 1]);
  const dgamma = output(b, [C]);
  const dbeta = output(b, [C]);
  run(b, TOTAL, [part, dgamma, dbeta], uniforms([["u32", blocks], ["u32", C]]), Math.ceil(C / 64));
  dispose(b, part);
  return [dgamma, dbeta];
}

export const LAYER_NORM_KERNELS = [layerNorm, layerNormGrad];

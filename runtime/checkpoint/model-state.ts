// Between tf variables and named tensors: what a checkpoint stores, and loading it back with every name
// and shape checked.
import { UserError } from "../errors.js";
import type { Module } from "../nn/module.js";
import { tf } from "../nn/tf.js";
import type { NamedTensor } from "./safetensors.js";

/** The tensors' values by name, read with `await data()` (a GPU backend has no synchronous read in Node). */
export async function tensorsOf(named: Iterable<readonly [string, tf.Tensor]>): Promise<Map<string, NamedTensor>> {
  const out = new Map<string, NamedTensor>();
  for (const [name, t] of named) {
    const data = await t.data();
    out.set(name, { dtype: t.dtype === "int32" ? "I32" : "F32", shape: t.shape, data: t.dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data) });
  }
  return out;
}

/** Assigns saved tensors to the model's parameters; names and shapes must match exactly. */
export function loadParameters(model: Module, saved: ReadonlyMap<string, NamedTensor>, what: string): void {
  const params = model.namedParameters();
  const missing = params.filter(([n]) => !saved.has(n)).map(([n]) => n);
  const known = new Set(params.map(([n]) => n));
  const extra = [...saved.keys()].filter((n) => !known.has(n));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [];
    if (missing.length) parts.push(`lacks ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}`);
    if (extra.length) parts.push(`has unknown ${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ` and ${extra.length - 3} more` : ""}`);
    throw new UserError(`${what} does not fit this model: it ${parts.join(" and ")}`);
  }
  for (const [name, v] of params) {
    const t = saved.get(name)!;
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new UserError(`${what}: ${name} has shape [${t.shape.join(", ")}], the model expects [${v.shape.join(", ")}]`);
    }
    if (t.dtype !== "F32") throw new UserError(`${what}: ${name} is ${t.dtype}, where the model's parameters are F32`);
    // weights a run diverged into give only noise: refused rather than sampled or trained from
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new UserError(`${what}: ${name} holds ${t.data[bad]} (at index ${bad}); a model with non-finite weights cannot be used (did the run diverge?)`);
  }
  for (const [name, v] of params) {
    const t = saved.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(t.data, [...t.shape], "float32")));
  }
}

export function toTensorMap(saved: ReadonlyMap<string, NamedTensor>): Map<string, tf.Tensor> {
  return new Map([...saved].map(([n, t]) => [n, tf.tensor(t.data, [...t.shape], t.dtype === "I32" ? "int32" : "float32")]));
}

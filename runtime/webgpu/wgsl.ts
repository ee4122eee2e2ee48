// WGSL pieces the kernels share. Each kernel's shader is one template string in its own file; these are
// the lines every one of them would otherwise repeat.

/** `@group(0) @binding(i)` declarations of storage buffers, in order: [name, "read" | "read_write", element type]. */
export function buffers(list: readonly (readonly [string, "read" | "read_write", "f32" | "i32" | "u32"])[]): string {
  return list.map(([name, access, type], i) => `@group(0) @binding(${i}) var<storage, ${access}> ${name}: array<${type}>;`).join("\n");
}

/** The uniform struct U at the binding after the buffers: fields of 4 bytes each, as dispatch.uniforms packs them. */
export function uniformStruct(binding: number, fields: readonly (readonly [string, "u32" | "i32" | "f32"])[]): string {
  return `struct U { ${fields.map(([n, t]) => `${n}: ${t}`).join(", ")} }\n@group(0) @binding(${binding}) var<uniform> u: U;`;
}

/** The entry point's builtins; `wg` is the workgroup's index when the dispatch spreads over x and y. */
export const ENTRY = `@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(global_invocation_id) gid: vec3u`;
export const WG_INDEX = `let wg = wid.y * nwg.x + wid.x;`;
/** A thread's flat index in a dispatch of `size`-thread workgroups spread over x and y. */
export const flatIndex = (size: number): string => `let idx = (wid.y * nwg.x + wid.x) * ${size}u + lid;`;

/**
 * Workgroup sum and max over `size` threads (a power of two): `sumAll(v)` and `maxAll(v)` return the
 * same value to every thread. They hold barriers, so every thread of the workgroup must call them.
 */
export function reductions(size: number): string {
  return `
var<workgroup> red: array<f32, ${size}>;
fn sumAll(v: f32) -> f32 {
  red[lid_] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s = s >> 1u) {
    if (lid_ < s) { red[lid_] = red[lid_] + red[lid_ + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn maxAll(v: f32) -> f32 {
  red[lid_] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s = s >> 1u) {
    if (lid_ < s) { red[lid_] = max(red[lid_], red[lid_ + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
var<private> lid_: u32;`;
}

/** The workgroup size for one row of `n` values: enough threads to cover it, 32 to 256. */
export function rowGroupSize(n: number): number {
  let s = 32;
  while (s < 256 && s < n) s *= 2;
  return s;
}

// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian
// data. Files we write load with PyTorch's safetensors loader; files we read are checked so a truncated
// or lying file gives a clear error instead of garbage weights.
import { UserError } from "../errors.js";

export type DType = "F32" | "I32";

export interface NamedTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export type TensorMap = ReadonlyMap<string, NamedTensor>;

const BYTES: Record<DType, number> = { F32: 4, I32: 4 };

/** Serializes tensors (sorted by name, so the bytes are deterministic) with optional string metadata. */
export function encodeSafetensors(tensors: TensorMap, metadata: Readonly<Record<string, string>> = {}): Uint8Array[] {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>; // so "__proto__" is a name like any other
  if (Object.keys(metadata).length > 0) header["__metadata__"] = metadata;
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new Error(`a tensor cannot be named "__metadata__": the format reserves that key`);
    const t = tensors.get(name)!;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape.join(", ")}] holds ${size} values, data has ${t.data.length}`);
    const bytes = size * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = JSON.stringify(header);
  // keep the data 8-byte aligned, as the reference writer does (in bytes: names need not be ASCII)
  // (TextEncoder and DataView rather than Buffer: the playground writes these files in a browser.)
  const encoded = new TextEncoder().encode(json);
  const headerBytes = new TextEncoder().encode(json + " ".repeat((8 - (encoded.length % 8)) % 8));
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  const chunks: Uint8Array[] = [prefix, headerBytes];
  for (const name of names) {
    const d = tensors.get(name)!.data;
    chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return chunks;
}

export interface DecodedSafetensors {
  readonly tensors: Map<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

/** Parses and validates a safetensors file; `what` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, what: string): DecodedSafetensors {
  const bad = (why: string): UserError => new UserError(`${what} is not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw bad(`it is ${bytes.length} bytes long, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw bad(`its header claims ${headerLength} bytes but the file has only ${bytes.length - 8} after the length (truncated?)`);
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw bad("its header is not JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw bad("its header is not a JSON object");
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, NamedTensor>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (entry !== null && (typeof entry !== "object" || Array.isArray(entry) || !Object.values(entry).every((v) => typeof v === "string"))) {
        throw bad("its __metadata__ is not a map of strings");
      }
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw bad(`the header entry for ${name} is not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== "F32" && e.dtype !== "I32") throw bad(`tensor ${name} has dtype ${String(e.dtype)}; only F32 and I32 are supported`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${name} has an invalid shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw bad(`tensor ${name} has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const shape = e.shape as number[];
    const expected = shape.reduce((a, b) => a * b, 1) * BYTES[e.dtype];
    if (end < begin || end - begin !== expected) {
      throw bad(`tensor ${name} has shape [${shape.join(", ")}] (${expected} bytes) but its offsets span ${end - begin} bytes`);
    }
    if (end > dataLength) throw bad(`tensor ${name} ends at byte ${end} but the data section has ${dataLength} bytes (truncated?)`);
    ranges.push([begin, end, name]);
    // Copy into an aligned buffer: the data section need not be 4-byte aligned in memory (and a Buffer's
    // slice() is a view, not a copy).
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    const data = e.dtype === "F32" ? new Float32Array(raw.buffer, raw.byteOffset, (end - begin) / 4) : new Int32Array(raw.buffer, raw.byteOffset, (end - begin) / 4);
    tensors.set(name, { dtype: e.dtype, shape, data });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) throw bad(`tensors ${ranges[i - 1]![2]} and ${ranges[i]![2]} overlap`);
  }
  return { tensors, metadata };
}

// Checkpoints: safetensors round trip, validation of damaged files, and the crash-safe write protocol.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint, recoverCheckpoint, saveCheckpoint, type CheckpointMeta } from "../../runtime/checkpoint/checkpoint.js";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../../runtime/checkpoint/safetensors.js";
import { UserError } from "../../runtime/errors.js";
import { tempFiles } from "../helpers/project.js";

const tensors = (seed: number): Map<string, NamedTensor> =>
  new Map<string, NamedTensor>([
    ["a.weight", { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, seed]) }],
    ["b", { dtype: "I32", shape: [2], data: Int32Array.from([7, -seed]) }],
    ["empty", { dtype: "F32", shape: [0], data: new Float32Array(0) }],
  ]);

const bytesOf = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks);

const meta = (step: number): Omit<CheckpointMeta, "files" | "format" | "savedAt"> => ({
  step,
  spec: { name: "t", path: "specs/t.yaml", sha256: "a".repeat(64), modelHash: "b".repeat(64) },
  tokenizer: { kind: "char", chars: "ab" },
  vocabSize: 2,
  rng: { batches: [1, 2, 3, 4], dropout: [5, 6, 7, 8] },
  optimizerStep: step,
  backend: "cpu",
  versions: {},
  overrides: [],
});

describe("safetensors", () => {
  it("round-trips names, shapes, dtypes and values, with metadata", () => {
    const decoded = decodeSafetensors(bytesOf(encodeSafetensors(tensors(9), { step: "3" })), "x");
    expect(decoded.metadata).toEqual({ step: "3" });
    for (const [name, t] of tensors(9)) {
      const got = decoded.tensors.get(name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data)).toEqual(Array.from(t.data));
    }
  });

  it("writes the standard layout: u64 header length, JSON header, 8-byte-aligned data", () => {
    const bytes = bytesOf(encodeSafetensors(tensors(1)));
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString()) as Record<string, { data_offsets: number[] }>;
    expect(header["a.weight"]!.data_offsets).toEqual([0, 24]);
    expect(bytes.length).toBe(8 + n + 24 + 8);
  });

  it.each([
    ["a file shorter than 8 bytes", (b: Buffer) => b.subarray(0, 5), "shorter than the 8-byte header length"],
    ["a truncated file", (b: Buffer) => b.subarray(0, b.length - 4), "truncated?"],
    ["a header length that lies", (b: Buffer) => (b.writeBigUInt64LE(BigInt(b.length)), b), "its header claims"],
    ["a header that is not JSON", (b: Buffer) => (b.write("{{{{", 8), b), "its header is not JSON"],
    ["offsets that disagree with the shape", (b: Buffer) => Buffer.from(b.toString("latin1").replace('"shape":[2,3]', '"shape":[3,3]'), "latin1"), "but its offsets span"],
  ])("rejects %s", (_name, damage, message) => {
    const bytes = damage(bytesOf(encodeSafetensors(tensors(1))));
    expect(() => decodeSafetensors(bytes, "model.safetensors")).toThrow(UserError);
    expect(() => decodeSafetensors(bytes, "model.safetensors")).toThrow(message);
  });
});

describe("checkpoint protocol", () => {
  it("saves and loads a checkpoint", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(2), meta(10));
    const cp = loadCheckpoint(dir);
    expect(cp.meta.step).toBe(10);
    expect(Array.from(cp.model.get("a.weight")!.data)).toEqual([1, 2, 3, 4, 5, 1]);
    expect(Array.from(cp.optimizer.get("b")!.data)).toEqual([7, -2]);
    expect(existsSync(join(dir, ".next"))).toBe(false);
  });

  it("keeps the previous checkpoint when a write dies before .next is complete", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(1), meta(10));
    // a crash after writing the new model but before meta.json: .next holds a partial set
    mkdirSync(join(dir, ".next"));
    writeFileSync(join(dir, ".next", "model.safetensors"), bytesOf(encodeSafetensors(tensors(99))));
    expect(loadCheckpoint(dir).meta.step).toBe(10);
    expect(Array.from(loadCheckpoint(dir).model.get("a.weight")!.data)).toEqual([1, 2, 3, 4, 5, 1]);
    expect(existsSync(join(dir, ".next"))).toBe(false);
  });

  it("finishes a promotion that a crash interrupted", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(1), meta(10));
    const staged = tempFiles({});
    saveCheckpoint(staged, tensors(2), tensors(2), meta(20));
    // a crash during promotion: the model was already moved, optimizer and meta are still in .next
    mkdirSync(join(dir, ".next"));
    writeFileSync(join(dir, "model.safetensors"), readFileSync(join(staged, "model.safetensors")));
    writeFileSync(join(dir, ".next", "optimizer.safetensors"), readFileSync(join(staged, "optimizer.safetensors")));
    writeFileSync(join(dir, ".next", "meta.json"), readFileSync(join(staged, "meta.json")));
    recoverCheckpoint(dir);
    const cp = loadCheckpoint(dir);
    expect(cp.meta.step).toBe(20);
    expect(Array.from(cp.model.get("a.weight")!.data)).toEqual([1, 2, 3, 4, 5, 2]);
  });

  it("detects a file that does not belong to its meta.json", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(1), meta(10));
    writeFileSync(join(dir, "model.safetensors"), bytesOf(encodeSafetensors(tensors(5))));
    expect(() => loadCheckpoint(dir)).toThrow(/does not match its meta.json/);
  });

  it("says so when meta.json is missing", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(1), meta(10));
    rmSync(join(dir, "meta.json"));
    expect(() => loadCheckpoint(dir)).toThrow(/has no meta.json/);
  });

  it("leaves the previous checkpoint intact when the disk fills mid-write, and says why", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(1), meta(10));
    const before = readFileSync(join(dir, "model.safetensors"));
    let writes = 0;
    const fullDisk = (file: string, data: string | readonly Uint8Array[]): void => {
      if (++writes === 2) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      writeFileAtomic(file, data);
    };
    expect(() => saveCheckpoint(dir, tensors(2), tensors(2), meta(20), fullDisk)).toThrow("could not write the checkpoint in " + dir + " (the disk is full); the previous checkpoint is intact");
    expect(readFileSync(join(dir, "model.safetensors"))).toEqual(before);
    expect(loadCheckpoint(dir).meta.step).toBe(10);
    expect(existsSync(join(dir, ".next"))).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)("leaves the previous checkpoint intact in a read-only run directory", () => {
    const dir = tempFiles({});
    saveCheckpoint(dir, tensors(1), tensors(1), meta(10));
    chmodSync(dir, 0o555);
    try {
      expect(() => saveCheckpoint(dir, tensors(2), tensors(2), meta(20))).toThrow(/the run directory is not writable\); the previous checkpoint is intact/);
      expect(loadCheckpoint(dir).meta.step).toBe(10);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

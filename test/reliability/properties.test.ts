// Property tests (fast-check, seeded, bounded):
// - any mutation of a valid spec (keys dropped or added, values of other types or ranges, layer kinds
//   swapped, lists truncated, the text cut short) gives either located SpecErrors or a model whose
//   emitted code parses and whose size can be counted, never another exception;
// - the char tokenizer decodes what it encodes, for any text over its vocabulary;
// - safetensors decodes what it encodes, for any names, shapes (zeros included) and F32/I32 values, and
//   a damaged file is refused with a UserError, never another exception.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import ts from "typescript";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { SpecError } from "../../compiler/diagnostics/diagnostic.js";
import { emitTypeScript as emitModelFile } from "../../compiler/emit.js";
import { countParams, trainingBytes } from "../../compiler/ir/analysis.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { layerKinds } from "../../compiler/spec/validate.js";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../../runtime/checkpoint/safetensors.js";
import { buildTokenizer, tokenizerFromState } from "../../runtime/data/tokenizer.js";
import { UserError } from "../../runtime/errors.js";
import { PROJECT_ROOT, tempFiles } from "../helpers/project.js";

const SEED = 20_251_125;

// ── spec mutations ───────────────────────────────────────────────────────────────────────────────────

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

const SPEC_FILES = readdirSync(join(PROJECT_ROOT, "specs"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();
const SPECS_DIR = tempFiles({});
for (const f of SPEC_FILES) copyFileSync(join(PROJECT_ROOT, "specs", f), join(SPECS_DIR, f));
const ORIGINALS = SPEC_FILES.map((f) => ({ file: f, text: readFileSync(join(SPECS_DIR, f), "utf8"), value: parseYaml(readFileSync(join(SPECS_DIR, f), "utf8")) as Json }));

const KINDS = layerKinds();
const KEYS = ["kind", "name", "dim", "out", "heads", "head_size", "times", "body", "rate", "hidden", "multiplier", "activation", "encoding", "bias", "eps", "__proto__", "constructor", "forward", "n_embd", "block_size", "layers", "extends", "x"];
const STRINGS = ["", ".", "vocab", "gelu", "relu", "learned", "sinusoidal", "sgd", "adamw", "cosine", "char", "gpt2", "*/ oops /*", "a\nb", '"quoted"', "`${x}`", "\\", "forward", "constructor", "01-bigram.yaml", "mutant.yaml", "nope.yaml"];

const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -3, max: 70 }),
  fc.constantFrom(0, -1, 1e9, 2 ** 31, 2 ** 53, 1e300, 0.5, 1e-9),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...STRINGS),
  fc.string({ maxLength: 8 }),
  fc.constant<Json>([]),
  fc.constant<Json>({}),
  fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 3 }),
  fc.constantFrom(...KINDS).map((kind): Json => ({ kind })),
);

type Mutation =
  | { readonly op: "drop"; readonly at: number }
  | { readonly op: "retype"; readonly at: number; readonly value: Json }
  | { readonly op: "unknown"; readonly at: number; readonly key: string; readonly value: Json }
  | { readonly op: "kind"; readonly at: number; readonly kind: string }
  | { readonly op: "truncate"; readonly at: number; readonly keep: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("drop" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("retype" as const), at: fc.nat(), value: anyValue }),
  fc.record({ op: fc.constant("unknown" as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), value: anyValue }),
  fc.record({ op: fc.constant("kind" as const), at: fc.nat(), kind: fc.oneof(fc.constantFrom(...KINDS), fc.string({ maxLength: 6 })) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat(), keep: fc.nat({ max: 3 }) }),
);

const isObject = (v: Json | undefined): v is { [key: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every path in the document, the root first. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((c, i) => out.push(...paths(c, [...at, i])));
  else if (isObject(v)) for (const [k, c] of Object.entries(v)) out.push(...paths(c, [...at, k]));
  return out;
}

const get = (v: Json, path: Path): Json => path.reduce<Json>((node, k) => (node as Record<string | number, Json>)[k]!, v);

/** The nearest node at or above `path` that satisfies `test`. */
function nearest(doc: Json, path: Path, test: (v: Json) => boolean): Path | undefined {
  for (let p = path; ; p = p.slice(0, -1)) {
    if (test(get(doc, p))) return p;
    if (p.length === 0) return undefined;
  }
}

function setAt(doc: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value ?? {};
  const parent = get(doc, path.slice(0, -1)) as Record<string | number, Json> | Json[];
  const key = path.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    Object.defineProperty(parent, key, { value, enumerable: true, configurable: true, writable: true });
  }
  return doc;
}

function mutate(doc: Json, m: Mutation): Json {
  const all = paths(doc);
  const path = all[m.at % all.length]!;
  switch (m.op) {
    case "drop":
      return setAt(doc, path, undefined);
    case "retype":
      return setAt(doc, path, structuredClone(m.value));
    case "unknown": {
      const p = nearest(doc, path, isObject);
      return p ? setAt(doc, [...p, m.key], structuredClone(m.value)) : doc;
    }
    case "kind": {
      const p = nearest(doc, path, (v) => isObject(v) && "kind" in v);
      return p ? setAt(doc, [...p, "kind"], m.kind) : doc;
    }
    case "truncate": {
      const p = nearest(doc, path, Array.isArray);
      return p ? setAt(doc, p, (get(doc, p) as Json[]).slice(0, m.keep)) : doc;
    }
  }
}

/** Compiles a spec file all the way; returns what happened, throwing anything that is not a SpecError. */
function compile(file: string): "spec error" | "compiled" {
  let ir;
  try {
    ir = lowerSpec(loadSpec(file, { cwd: SPECS_DIR }));
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    expect(e.diagnostics.length).toBeGreaterThan(0);
    for (const d of e.diagnostics) {
      expect(d.message.length).toBeGreaterThan(0);
      if (d.loc.kind === "file") {
        expect(d.loc.line).toBeGreaterThanOrEqual(1);
        expect(d.loc.col).toBeGreaterThanOrEqual(1);
        expect(d.loc.file).toMatch(/\.yaml$/);
      }
    }
    return "spec error";
  }
  const code = emitModelFile(ir);
  const { diagnostics } = ts.transpileModule(code, { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext } });
  expect(diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")) ?? []).toEqual([]);
  // sizes are plain arithmetic for any `times` or width: they must come back, finite or not, at once
  expect(countParams(ir, 65)).toBeGreaterThan(0);
  expect(trainingBytes(ir, 65, 4)).toBeGreaterThan(0);
  return "compiled";
}

describe("spec mutations", () => {
  it("every valid spec in specs/ compiles as it is", () => {
    for (const { file } of ORIGINALS) expect(compile(file), file).toBe("compiled");
  });

  it("structural mutations give a located SpecError or a model, never another exception", () => {
    const seen = { "spec error": 0, compiled: 0 };
    fc.assert(
      fc.property(fc.nat({ max: ORIGINALS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const doc = mutations.reduce((d, m) => mutate(d, m), structuredClone(ORIGINALS[which]!.value));
        writeFileSync(join(SPECS_DIR, "mutant.yaml"), stringify(doc));
        seen[compile("mutant.yaml")] += 1;
      }),
      { seed: SEED, numRuns: 300 },
    );
    // both outcomes occur, so the property is not vacuous
    expect(seen["spec error"]).toBeGreaterThan(0);
    expect(seen.compiled).toBeGreaterThan(0);
  });

  it("text cut short or spliced with junk gives a SpecError or a model, never another exception", () => {
    const junk = fc.constantFrom("", ":", "- ", "{", "}", "[", "&a ", "*a", "!!binary ", "\t", "\n  ", "#", "'", '"', "\u0000", "? ", "|", "<<: *b\n");
    fc.assert(
      fc.property(fc.nat({ max: ORIGINALS.length - 1 }), fc.nat(), fc.nat({ max: 40 }), junk, (which, cut, skip, insert) => {
        const { text } = ORIGINALS[which]!;
        const at = cut % (text.length + 1);
        writeFileSync(join(SPECS_DIR, "mutant.yaml"), text.slice(0, at) + insert + text.slice(Math.min(text.length, at + skip)));
        compile("mutant.yaml");
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  // found while writing these tests; each used to end in an internal error or in broken generated code
  const layers = (...extra: string[]): string => ["  layers:", "    - kind: token_embedding", ...extra, "    - kind: linear", "      out: vocab", ""].join("\n");
  const head = "extends: 02-position.yaml\nname: t\nmodel:\n";
  it.each([
    ["extends a directory", "extends: .\nname: t\n", "1:10", /^extends .*, which is not a spec file \(a directory\?\)$/],
    ["a key that is a list", "name: t\n? [a, b]\n: 1\n", "2:3", /^a key must be a plain name, not a list or a mapping$/],
    ["a layer named forward", head + layers("    - kind: layer_norm", "      name: forward"), "7:13", /^a layer named "forward" would hide the class's own forward; choose another name$/],
    ["ln_1 beside ln1", head + layers("    - kind: layer_norm", "      name: ln1", "    - kind: layer_norm", "      name: ln_1"), "9:13", /^another layer in this scope is named "ln1", and both would be the property ln1 \(line 6\)$/],
    ["a model named language", "extends: 02-position.yaml\nname: language\n", "2:7", /^the model's class would be named LanguageModel, which generated code already uses; choose another name$/],
    ["a block class named Linear", head + layers("    - kind: block", "      class: Linear", "      body:", "        - kind: layer_norm"), "7:14", /^a block class named Linear would clash with a name the generated TypeScript already uses; choose another class name$/],
  ])("%s is a located spec error", (_name, text, at, message) => {
    writeFileSync(join(SPECS_DIR, "mutant.yaml"), text);
    const e = (() => {
      try {
        lowerSpec(loadSpec("mutant.yaml", { cwd: SPECS_DIR }));
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(SpecError);
    const [d] = (e as SpecError).diagnostics;
    expect(d!.loc.kind === "file" ? `${d!.loc.line}:${d!.loc.col}` : d!.loc).toBe(at);
    expect(d!.message).toMatch(message);
  });

  it("a directory given as the spec is a spec error", () => {
    expect(() => loadSpec(".", { cwd: SPECS_DIR })).toThrow(SpecError);
  });

  it("counts a model repeated a billion times without enumerating the copies", () => {
    const ir = lowerSpec(loadSpec(join(SPECS_DIR, "12-baby-gpt.yaml"), { cwd: SPECS_DIR, sets: ["model.layers.2.times=1000000000"] }));
    const four = lowerSpec(loadSpec(join(SPECS_DIR, "12-baby-gpt.yaml"), { cwd: SPECS_DIR }));
    // the blocks are all but a few parameters: 1e9 / 4 times the 4-block model's, within the embeddings and head
    expect(countParams(ir, 65) / countParams(four, 65)).toBeGreaterThan(2.4e8);
    expect(countParams(ir, 65) / countParams(four, 65)).toBeLessThan(2.6e8);
  });

  it("an alias bomb is refused as a spec error", () => {
    let text = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (let i = 1; i < 10; i++) text += `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]\n`;
    writeFileSync(join(SPECS_DIR, "mutant.yaml"), `${text}name: t\n`);
    expect(compile("mutant.yaml")).toBe("spec error");
  });
});

// ── the char tokenizer ───────────────────────────────────────────────────────────────────────────────

describe("char tokenizer", () => {
  it("decode(encode(x)) = x for any text over the vocabulary, also after a round trip through its state", () => {
    const vocabulary = fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(
        vocabulary.chain((chars) => {
          const symbols = [...new Set(chars.flatMap((c) => Array.from(c)))];
          return fc.tuple(fc.constant(symbols), fc.array(fc.constantFrom(...symbols), { maxLength: 200 }).map((a) => a.join("")));
        }),
        ([symbols, text]) => {
          const tok = buildTokenizer("char", symbols.join(""), false);
          expect(tok.vocabSize).toBe(symbols.length);
          const ids = tok.encode(text);
          expect(ids.length).toBe(Array.from(text).length);
          expect(ids.every((id) => id >= 0 && id < tok.vocabSize)).toBe(true);
          expect(tok.decode(ids)).toBe(text);
          expect(tokenizerFromState(JSON.parse(JSON.stringify(tok.state()))).decode(ids)).toBe(text);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ── safetensors ──────────────────────────────────────────────────────────────────────────────────────

const tensor: fc.Arbitrary<NamedTensor> = fc
  .tuple(fc.constantFrom<"F32" | "I32">("F32", "I32"), fc.array(fc.nat({ max: 5 }), { maxLength: 4 }))
  .chain(([dtype, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = dtype === "F32" ? fc.float32Array({ minLength: size, maxLength: size }) : fc.int32Array({ minLength: size, maxLength: size });
    return values.map((data): NamedTensor => ({ dtype, shape, data }));
  });
const tensorName = fc.oneof(fc.constantFrom("", "__proto__", "constructor", "a.b.c", "blocks.0.attn.heads.1.query.weight"), fc.string({ unit: "binary", maxLength: 12 }).filter((n) => n !== "__metadata__"));
const tensors = fc.dictionary(tensorName, tensor, { maxKeys: 6 });
const bytesOf = (d: Float32Array | Int32Array): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

describe("safetensors", () => {
  it("decode(encode(x)) = x: names, dtypes, shapes (zeros too) and the exact bits of every value", () => {
    fc.assert(
      fc.property(tensors, fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2 }), (record, metadata) => {
        const input = new Map(Object.entries(record));
        const decoded = decodeSafetensors(Buffer.concat(encodeSafetensors(input, metadata)), "x.safetensors");
        expect([...decoded.tensors.keys()].sort()).toEqual([...input.keys()].sort());
        for (const [name, t] of input) {
          const got = decoded.tensors.get(name)!;
          expect(got.dtype).toBe(t.dtype);
          expect(got.shape).toEqual(t.shape);
          expect(Buffer.from(bytesOf(got.data)).equals(Buffer.from(bytesOf(t.data)))).toBe(true);
        }
        expect(decoded.metadata).toEqual(Object.keys(metadata).length > 0 ? metadata : {});
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("refuses a tensor named __metadata__ instead of writing a file that loses it", () => {
    const t: NamedTensor = { dtype: "F32", shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors(new Map([["__metadata__", t]]))).toThrow(/reserves/);
  });

  it("a damaged file decodes or is refused with a UserError, never another exception", () => {
    const damage = fc.oneof(
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
      fc.record({ kind: fc.constant("header" as const), text: fc.constantFrom("null", "[]", '{"a":null}', '{"a":1}', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', '{"__metadata__":[1]}', '{"a":{"dtype":"F32","shape":[1e308,1e308],"data_offsets":[0,4]}}', '{"a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}', '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', "{") }),
    );
    fc.assert(
      fc.property(tensors, damage, (record, d) => {
        let bytes = Buffer.concat(encodeSafetensors(new Map(Object.entries(record))));
        if (d.kind === "truncate") bytes = bytes.subarray(0, d.at % (bytes.length + 1));
        else if (d.kind === "flip") bytes[d.at % bytes.length] = d.byte;
        else {
          const header = Buffer.from(d.text);
          const prefix = Buffer.alloc(8);
          prefix.writeBigUInt64LE(BigInt(header.length));
          bytes = Buffer.concat([prefix, header, Buffer.alloc(8)]);
        }
        try {
          decodeSafetensors(bytes, "x.safetensors");
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          expect(e.message).toMatch(/^x\.safetensors is not a valid safetensors file: /);
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

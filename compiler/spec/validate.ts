// Schema validation with ajv: the schema is the one definition of what a spec may say. The validator is
// ajv's standalone code for the schema (validate.generated.mjs, written by gen-types.ts), so no command
// compiles the schema at its start; it fills in the schema's defaults, and its errors become located
// diagnostics with plain-English messages.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ErrorObject } from "ajv/dist/2020.js";
import { SpecError, type Diagnostic } from "../diagnostics/diagnostic.js";
import { didYouMean, nearest } from "../diagnostics/suggest.js";
import { kindsList } from "./define.js";
import { childPointer, isPlainObject, locate, type Located } from "./located.js";
import type { Spec } from "./types.generated.js";
import validate from "./validate.generated.mjs";

export const SCHEMA_PATH = fileURLToPath(new URL("../../schema/spec.schema.json", import.meta.url));

type SchemaNode = { [key: string]: unknown };
let schemaRead: SchemaNode | undefined;

/** The schema itself, for what the messages name (the layer kinds). */
function schema(): SchemaNode {
  schemaRead ??= JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as SchemaNode;
  return schemaRead;
}

/** The layer kinds the schema knows, read from the `layer` union. */
export function layerKinds(): string[] {
  const defs = schema()["$defs"] as Record<string, SchemaNode>;
  const oneOf = defs["layer"]!["oneOf"] as { $ref: string }[];
  return oneOf.map((r) => r.$ref.split("/").pop()!).sort();
}

/** Validates a merged spec in place (filling defaults) and returns it typed, or throws located errors. */
export function validateSpec(spec: Located, defined: readonly string[] = []): Spec {
  const value = structuredClone(spec.value);
  if (validate(value)) return value as Spec;
  const errors = dropMisspelledRequired(dropBranchNoise(validate.errors ?? []));
  const diagnostics = errors.map((e): Diagnostic => describe(e, spec, defined));
  throw new SpecError(dedupe(diagnostics));
}

/**
 * A failed oneOf reports every branch's complaint too; keep only the oneOf's own error at that spot,
 * which we phrase from the alternatives.
 */
function dropBranchNoise(errors: ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === "oneOf");
  // When the value has the type of exactly one branch (a mapping where the other branch is a boolean, as
  // attention's rope), that branch's own complaints say what is wrong: keep them instead.
  const chosen = new Map(oneOfs.map((e) => [e.schemaPath, branchOfType(e)]));
  return errors.filter((e) => {
    if (e.keyword === "oneOf") return chosen.get(e.schemaPath) === undefined;
    const owner = [...chosen.keys()].find((p) => e.schemaPath.startsWith(p + "/"));
    if (owner === undefined) return true;
    const branch = chosen.get(owner);
    return branch !== undefined && e.schemaPath.startsWith(`${owner}/${branch}/`);
  });
}

/** The index of the one branch of a failed oneOf whose `type` the value has, if exactly one has it. */
function branchOfType(e: ErrorObject): number | undefined {
  const branches = (e.schema as SchemaNode[] | undefined) ?? [];
  const type = isPlainObject(e.data) ? "object" : Array.isArray(e.data) ? "array" : typeof e.data;
  const matching = branches.flatMap((s, i) => (s["type"] === type ? [i] : []));
  return matching.length === 1 ? matching[0] : undefined;
}

/**
 * `modle:` makes "model" both missing and unknown; the unknown key, with its suggestion, is the real
 * cause, so the missing-key error it explains is dropped.
 */
function dropMisspelledRequired(errors: ErrorObject[]): ErrorObject[] {
  const misspelled = new Set(
    errors
      .filter((e) => e.keyword === "additionalProperties")
      .map((e) => {
        const known = Object.keys(((e.parentSchema as SchemaNode | undefined)?.["properties"] as SchemaNode | undefined) ?? {});
        return `${e.instancePath}|${nearest(String(e.params["additionalProperty"]), known) ?? ""}`;
      }),
  );
  return errors.filter((e) => !(e.keyword === "required" && misspelled.has(`${e.instancePath}|${String(e.params["missingProperty"])}`)));
}

function describe(e: ErrorObject, spec: Located, defined: readonly string[]): Diagnostic {
  const where = e.instancePath;
  const key = lastSegment(where);
  const subject = key === undefined ? "the spec" : /^\d+$/.test(key) ? `item ${key}` : `"${key}"`;
  const parent = e.parentSchema as SchemaNode | undefined;
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = String(e.params["additionalProperty"]);
      const known = Object.keys((parent?.["properties"] as SchemaNode | undefined) ?? {});
      return {
        loc: locate(spec.locs, childPointer(where, extra), "key"),
        message: `unknown key "${extra}" in ${describeObject(where, spec)}${didYouMean(extra, known)}`,
      };
    }
    case "discriminator": {
      const tag = e.params["tagValue"];
      if (e.params["error"] === "tag" && tag === undefined) {
        return { loc: locate(spec.locs, where), message: `layer has no "kind" (one of: ${layerKinds().join(", ")})` };
      }
      return {
        loc: locate(spec.locs, childPointer(where, "kind")),
        message: `unknown layer kind "${String(tag)}"${kindsList(String(tag), layerKinds(), defined)}`,
      };
    }
    case "required": {
      const missing = String(e.params["missingProperty"]);
      return { loc: locate(spec.locs, where), message: `${describeObject(where, spec)} is missing "${missing}"` };
    }
    case "enum": {
      const allowed = (e.schema as unknown[]).map(String);
      return {
        loc: locate(spec.locs, where),
        message: `${subject} must be one of ${allowed.join(", ")}; got ${show(e.data)}${didYouMean(String(e.data), allowed)}`,
      };
    }
    case "type":
      return { loc: locate(spec.locs, where), message: `${subject} must be ${article(String(e.params["type"]))}; got ${show(e.data)}` };
    case "minimum":
    case "exclusiveMinimum":
    case "maximum":
    case "exclusiveMaximum": {
      if (e.schemaPath.includes("dropoutRate") || (key === "dropout" && e.instancePath.startsWith("/training"))) {
        return { loc: locate(spec.locs, where), message: `${subject} must be in [0, 1); got ${show(e.data)}` };
      }
      const op = { minimum: ">=", exclusiveMinimum: ">", maximum: "<=", exclusiveMaximum: "<" }[e.keyword];
      return { loc: locate(spec.locs, where), message: `${subject} must be ${op} ${String(e.params["limit"])}; got ${show(e.data)}` };
    }
    case "oneOf": {
      const options = ((e.schema as SchemaNode[]) ?? []).map((s) => ("const" in s ? JSON.stringify(s["const"]) : article(String(s["type"]))));
      return { loc: locate(spec.locs, where), message: `${subject} must be ${options.join(" or ")}; got ${show(e.data)}` };
    }
    case "pattern":
      return { loc: locate(spec.locs, where), message: `${subject} ${show(e.data)} ${patternHint(String(e.params["pattern"]))}` };
    case "minItems":
    case "maxItems": {
      const n = Number(e.params["limit"]);
      const bound = e.keyword === "minItems" ? "at least" : "at most";
      return { loc: locate(spec.locs, where), message: `${subject} must have ${bound} ${n} item${n === 1 ? "" : "s"}` };
    }
    default:
      return { loc: locate(spec.locs, where), message: `${subject} ${e.message ?? "is invalid"}` };
  }
}

function describeObject(pointer: string, spec: Located): string {
  if (pointer === "") return "the spec";
  let node: unknown = spec.value;
  for (const seg of pointer.slice(1).split("/")) node = isPlainObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[seg] : undefined;
  if (isPlainObject(node) && typeof node["kind"] === "string") return `${node["kind"]} layer`;
  return `"${lastSegment(pointer)}"`;
}

function patternHint(pattern: string): string {
  if (pattern === "^[a-z][a-z0-9_-]*$") return "is not a valid name: use lowercase letters, digits, - and _, starting with a letter";
  if (pattern === "^[a-z][a-z0-9_]*$") return "is not a valid layer name: use lowercase letters, digits and _, starting with a letter";
  if (pattern === "^[A-Z][A-Za-z0-9]*$") return "is not a valid class name: use letters and digits, starting with a capital";
  return `must match ${pattern}`;
}

function lastSegment(pointer: string): string | undefined {
  return pointer === "" ? undefined : pointer.slice(pointer.lastIndexOf("/") + 1);
}

function article(type: string): string {
  return type === "integer" ? "an integer" : type === "object" ? "a mapping" : type === "array" ? "a list" : `a ${type}`;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (isPlainObject(value)) return "a mapping";
  return String(value);
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out = ds.filter((d) => {
    const k = JSON.stringify(d);
    return seen.has(k) ? false : (seen.add(k), true);
  });
  const rank = (d: Diagnostic): [string, number, number] =>
    d.loc.kind === "file" ? [d.loc.file, d.loc.line, d.loc.col] : ["~", 0, 0];
  return out.sort((x, y) => {
    const [fa, la, ca] = rank(x);
    const [fb, lb, cb] = rank(y);
    return fa < fb ? -1 : fa > fb ? 1 : la - lb || ca - cb;
  });
}

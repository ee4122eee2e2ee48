// The compiler in the page: the same stages the CLI runs (parse with positions → extends → validate →
// lower → emit with ts-morph), over the bundled specs and the one being edited. The emitted TypeScript is
// what the page shows and, transpiled to JavaScript (typescript's transpileModule, inside ts-morph), what
// it trains: the code you read is the code that runs.
import { ts } from "ts-morph";
import { loadSpec, lowerSpec, SpecError, type Diagnostic, type LoadedSpec, type ModelIR } from "../../compiler/index.js";
import { emitTypeScript as emitModelFile } from "../../compiler/emit.js";
import { inspectReport } from "../../runtime/inspect-report.js";
import * as nn from "../../runtime/nn/index.js";
import type { ModelModule } from "../../runtime/model-source.js";
import { ROOT, writeVirtual } from "./shims/vfs.js";

export type Compiled =
  | { readonly ok: true; readonly loaded: LoadedSpec; readonly ir: ModelIR; readonly source: string; readonly ms: number }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly ms: number };

/** Compiles `text` as the spec at project path `path` (specs/05-multi-head.yaml): its extends resolve beside it. */
export function compileSpec(path: string, text: string): Compiled {
  const started = performance.now();
  writeVirtual(`${ROOT}/${path}`, text);
  try {
    const loaded = loadSpec(`${ROOT}/${path}`, { cwd: ROOT });
    const ir = lowerSpec(loaded);
    const source = emitModelFile(ir);
    return { ok: true, loaded, ir, source, ms: performance.now() - started };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, diagnostics: e.diagnostics, ms: performance.now() - started };
    throw e;
  }
}

export function inspectText(c: Extract<Compiled, { ok: true }>, vocab: number): string {
  return inspectReport(c.loaded, c.ir, vocab, c.loaded.spec.training.batch_size);
}

const RUNTIME = "babygpt:runtime/nn";

/** The model module of an IR: its emitted TypeScript, transpiled, run with the runtime as its one import. */
export function loadModelModule(ir: ModelIR): ModelModule {
  const source = emitModelFile(ir, { runtimeImport: RUNTIME });
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const exports: Record<string, unknown> = {};
  const require = (id: string): unknown => {
    if (id !== RUNTIME) throw new Error(`generated code imports ${id}; it may import the runtime only`);
    return nn;
  };
  new Function("exports", "require", js)(exports, require);
  return exports as unknown as ModelModule;
}

// The playground page: wires the editor, the compiler, the backend and the session together.
import "./shims/process.js";
import { javascript } from "@codemirror/lang-javascript";
import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { formatDiagnostic, type Diagnostic } from "../../compiler/index.js";
import { attentionSvg } from "../../runtime/attention/svg.js";
import { UserError } from "../../runtime/errors.js";
import { tf } from "../../runtime/nn/tf.js";
import { lineChart, type Series } from "../../runtime/plot.js";
import pkg from "../../package.json" with { type: "json" };
import { PAGE_BACKENDS, selectPageBackend, type PageBackend, type PageBackendInfo } from "./backend.js";
import { compileSpec, inspectText, type Compiled } from "./compile.js";
import { createSpecEditor } from "./editor.js";
import { Session } from "./session.js";
import { findVirtual, ladderSpecs, ROOT } from "./shims/vfs.js";

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const num = (id: string): number => Number($<HTMLInputElement>(id).value);

let specPath = "specs/05-multi-head.yaml";
let compiled: Extract<Compiled, { ok: true }> | undefined;
let session: Session | undefined;
let corpus: string | undefined;
let backend: PageBackendInfo | undefined;
let target = 0;

function showError(e: unknown): void {
  $("error").textContent = e instanceof UserError ? `error: ${e.message}` : `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
}

async function guarded(f: () => Promise<void> | void): Promise<void> {
  $("error").textContent = "";
  try {
    await f();
  } catch (e) {
    showError(e);
  }
}

// ---- the spec, the code, inspect ----

const code = new EditorView({ parent: $("code"), state: EditorState.create({ doc: "", extensions: [basicSetup, javascript({ typescript: true }), EditorState.readOnly.of(true)] }) });

function vocabGuess(c: Extract<Compiled, { ok: true }>): { size: number; why: string } {
  if (session && session.compiled.ir.modelHash === c.ir.modelHash) return { size: session.tokenizer.vocabSize, why: "the model's" };
  if (c.loaded.spec.data.tokenizer === "gpt2") return { size: 50_257, why: "GPT-2's (compact_vocab counts the loaded text's once training starts)" };
  if (corpus !== undefined) return { size: new Set(Array.from(corpus)).size, why: "the loaded text's characters" };
  return { size: 65, why: "tinyshakespeare's 65 characters, until a text is loaded" };
}

function check(text: string): readonly Diagnostic[] {
  const c = compileSpec(specPath, text);
  $("compile-time").textContent = `${specPath} · compiled in the page in ${c.ms.toFixed(0)} ms`;
  $("compile-time").dataset["ms"] = c.ms.toFixed(1);
  if (!c.ok) {
    $("diagnostics").textContent = c.diagnostics.map(formatDiagnostic).join("\n");
    document.body.dataset["spec"] = "error";
    const here = `${ROOT}/${specPath}`;
    return c.diagnostics.filter((d) => d.loc.kind === "file" && (d.loc.file === specPath || d.loc.file === here));
  }
  $("diagnostics").textContent = "";
  document.body.dataset["spec"] = "ok";
  compiled = c;
  if (code.state.doc.toString() !== c.source) code.dispatch({ changes: { from: 0, to: code.state.doc.length, insert: c.source } });
  const vocab = vocabGuess(c);
  $("inspect").textContent = `${inspectText(c, vocab.size)}\n\n(vocabulary: ${vocab.why})`;
  if (session && session.compiled.ir.modelHash !== c.ir.modelHash) $("train-status").textContent = "the spec changed: train starts a new model";
  return [];
}

const editor = createSpecEditor($("editor"), check);

function openSpec(path: string, text?: string): void {
  specPath = path;
  editor.setText(text ?? findVirtual(`${ROOT}/${path}`) ?? "");
  check(editor.text());
}

const picker = $<HTMLSelectElement>("spec");
for (const p of ladderSpecs()) picker.add(new Option(p.replace(/^specs\//, ""), p));
picker.value = specPath;
picker.addEventListener("change", () => openSpec(picker.value));

// ---- the backend ----

const backendPicker = $<HTMLSelectElement>("backend");
for (const b of PAGE_BACKENDS) backendPicker.add(new Option(b, b));
const wanted = new URLSearchParams(location.search).get("backend");
backendPicker.value = PAGE_BACKENDS.includes(wanted as PageBackend) ? (wanted as PageBackend) : "auto";

async function switchBackend(): Promise<void> {
  $("backend-name").textContent = "backend: …";
  try {
    backend = await selectPageBackend(backendPicker.value as PageBackend);
    $("backend-name").textContent = `backend: ${backend.name} (${backend.detail})`;
  } finally {
    // A refused choice leaves tfjs on the backend it had: the badge says which.
    if (!backend || backend.name !== tf.getBackend()) {
      backend = { name: tf.getBackend() as PageBackendInfo["name"], detail: "kept" };
      $("backend-name").textContent = `backend: ${backend.name}`;
    }
    document.body.dataset["backend"] = backend.name;
  }
}
backendPicker.addEventListener("change", () => void guarded(switchBackend));

// ---- the text ----

$<HTMLInputElement>("corpus").addEventListener("change", () =>
  guarded(async () => {
    const file = $<HTMLInputElement>("corpus").files?.[0];
    if (!file) return;
    corpus = await file.text();
    $("corpus-info").textContent = `${file.name}: ${corpus.length.toLocaleString("en-US")} characters, ${new Set(Array.from(corpus)).size} distinct`;
    document.body.dataset["corpus"] = "loaded";
    check(editor.text());
  }),
);

// ---- training ----

function drawChart(s: Session): void {
  const series: Series[] = [
    { name: "train (step)", points: s.losses.map((l) => [l.step, l.loss]), color: "#9ecae1", faint: true },
    { name: "train", points: s.evals.map((e) => [e.step, e.train]), color: "#1f77b4" },
    { name: "val", points: s.evals.map((e) => [e.step, e.val]), color: "#d62728" },
  ];
  if (series.every((x) => x.points.length === 0)) return;
  $("chart").innerHTML = lineChart({ title: `${s.compiled.loaded.spec.name} on ${backend?.name ?? "?"}`, xLabel: "step", yLabel: "loss", series });
}

function showProgress(s: Session): void {
  const last = s.losses.at(-1);
  const ev = s.evals.at(-1);
  $("train-status").textContent = [
    `step ${s.step} of ${target}`,
    last ? `loss ${last.loss.toFixed(4)}` : "",
    ev ? `estimate at step ${ev.step}: train ${ev.train.toFixed(4)}, val ${ev.val.toFixed(4)}` : "",
    s.running ? (s.paused ? "pausing…" : "training…") : s.step >= target ? "done" : "paused",
  ]
    .filter(Boolean)
    .join(" · ");
  // For the page's tests (and anyone scripting it): the numbers behind the chart.
  $("train-status").dataset["step"] = String(s.step);
  $("train-status").dataset["losses"] = JSON.stringify(s.losses.map((l) => l.loss));
  $("train-status").dataset["evals"] = JSON.stringify(s.evals);
  drawChart(s);
}

function setButtons(): void {
  const running = session?.running ?? false;
  $<HTMLButtonElement>("train").disabled = running;
  $<HTMLButtonElement>("pause").disabled = !running;
  $<HTMLButtonElement>("resume").disabled = running || !session || session.step >= target;
}

async function runTraining(s: Session): Promise<void> {
  if (corpus === undefined) throw new UserError("load a text to train on first (the file chooser at the top)");
  document.body.dataset["training"] = "running";
  setButtons();
  try {
    await s.train(corpus, { until: target, evalEvery: Math.max(1, num("eval-every")), evalBatches: Math.max(1, num("eval-batches")) }, () => {
      showProgress(s);
      setButtons();
    });
  } finally {
    showProgress(s);
    document.body.dataset["training"] = s.step >= target ? "done" : "paused";
    setButtons();
  }
}

$("train").addEventListener("click", () =>
  guarded(async () => {
    if (!compiled) throw new UserError("the spec has errors; fix them first");
    if (corpus === undefined) throw new UserError("load a text to train on first (the file chooser at the top)");
    if (!backend) await switchBackend();
    if (!session || session.compiled.ir.modelHash !== compiled.ir.modelHash || session.compiled.source !== compiled.source) {
      session?.dispose();
      session = Session.fresh(compiled, corpus);
    }
    target = session.step + Math.max(1, num("steps"));
    await runTraining(session);
  }),
);
$("pause").addEventListener("click", () => session?.pause());
$("resume").addEventListener("click", () => guarded(async () => session && (await runTraining(session))));

// ---- sampling and attention ----

function needModel(): Session {
  if (!session) throw new UserError("train a model first, or load a run's files");
  return session;
}

$("sample").addEventListener("click", () =>
  guarded(async () => {
    const s = needModel();
    const out = $("sample-out");
    const prompt = $<HTMLInputElement>("prompt").value || "\n";
    document.body.dataset["sample"] = "running";
    const k = num("topk");
    await s.sample(prompt, Math.max(1, num("tokens")), Math.max(0, num("temperature")), k > 0 ? k : undefined, num("seed"), (text) => (out.textContent = prompt + text));
    document.body.dataset["sample"] = "done";
  }),
);

$("attention").addEventListener("click", () =>
  guarded(async () => {
    const s = needModel();
    const { maps, tokens } = await s.attention($<HTMLInputElement>("attn-prompt").value);
    const box = $("attention-maps");
    box.innerHTML = maps.length === 0 ? "<p>This model has no attention layer.</p>" : maps.map((m) => `<figure data-layer="${m.layer}" data-head="${m.head}">${attentionSvg(m, tokens)}</figure>`).join("");
    document.body.dataset["attention"] = String(maps.length);
  }),
);

// ---- checkpoints ----

$("download").addEventListener("click", () =>
  guarded(async () => {
    const s = needModel();
    const files = await s.files(backend?.name ?? tf.getBackend(), { babygpt: pkg.version, tfjs: tf.version_core, browser: navigator.userAgent });
    const box = $("downloads");
    for (const a of box.querySelectorAll("a")) URL.revokeObjectURL(a.href);
    box.innerHTML = "";
    for (const [name, bytes] of files) {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([bytes as BlobPart]));
      a.download = name;
      a.textContent = name;
      box.append(a);
    }
    for (const a of box.querySelectorAll("a")) a.click();
    $("checkpoint-status").textContent = `step ${s.step}: put the four files in one folder, then npx babygpt sample FOLDER or npx babygpt eval FOLDER`;
  }),
);

$<HTMLInputElement>("load").addEventListener("change", () =>
  guarded(async () => {
    const chosen = [...($<HTMLInputElement>("load").files ?? [])];
    const files = new Map<string, Uint8Array>();
    for (const f of chosen) files.set(f.name, new Uint8Array(await f.arrayBuffer()));
    const spec = files.get("spec.resolved.yaml");
    if (!spec) throw new UserError("choose the run's spec.resolved.yaml too (with model.safetensors, optimizer.safetensors and meta.json)");
    openSpec("specs/loaded-run.yaml", new TextDecoder().decode(spec));
    if (!compiled || specPath !== "specs/loaded-run.yaml") throw new UserError("the run's spec.resolved.yaml does not compile");
    if (!backend) await switchBackend();
    const loaded = Session.fromFiles(compiled, files);
    session?.dispose();
    session = loaded;
    target = loaded.step;
    showProgress(loaded);
    setButtons();
    $("checkpoint-status").textContent = `loaded a run at step ${loaded.step} (${loaded.compiled.loaded.spec.name})`;
    document.body.dataset["loaded"] = String(loaded.step);
  }),
);

// ---- start ----

openSpec(specPath);
void guarded(switchBackend);

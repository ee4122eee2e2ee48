// `babygpt attention <run> --prompt "…"`: one SVG attention map per layer and head of a run's model for
// the prompt's tokens, and an index.html laying them out as a grid.
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import type { AttentionMap } from "../../attention/maps.js";
import { BACKENDS, type BackendChoice } from "../../backend/choices.js";
import { UserError } from "../../errors.js";
import { makeDirs } from "../../make-dirs.js";
import { checkOutputDir, checkOutputFile, commentText, writeOutputFile, type OutputOptions } from "../../safe-output.js";
import { parseIntOption } from "../parse.js";

/** The first line of every file it writes: what it may replace without --force. */
const MARKER = "<!-- Written by babygpt attention";

interface AttentionOptions {
  prompt: string;
  out?: string;
  layer?: string;
  head?: number;
  backend: BackendChoice;
  force?: boolean;
}

export function registerAttention(program: Command): void {
  program
    .command("attention")
    .description("draw the attention weights of a run's model for a prompt: an SVG per layer and head, and index.html")
    .argument("<run>", "run directory")
    .requiredOption("--prompt <text>", "the text whose tokens attend to each other (at most block_size tokens)")
    .option("--out <dir>", "where to write the maps (default: <run>/attention)")
    .option("--layer <name>", "only this attention layer (as named in the model: head, attn, blocks.0.attn …)")
    .option("--head <h>", "only this head of each layer", parseIntOption("--head", 0))
    .option("--backend <name>", `tensor backend: ${BACKENDS.join(", ")}`, "auto")
    .option("--force", "replace files in --out that attention did not write (never a run's checkpoint or metrics)")
    .action(async (runDir: string, opts: AttentionOptions) => {
      if (opts.prompt.length === 0) throw new UserError("--prompt is empty; give the text to draw the attention of");
      const { openRun } = await import("../../run.js");
      const { attentionMaps } = await import("../../attention/maps.js");
      const { attentionIndexHtml, attentionSvg, mapFileName } = await import("../../attention/svg.js");
      const run = await openRun(runDir, opts.backend, { batch: 1, what: "draw its attention" });
      let ids: number[];
      try {
        ids = Array.from(run.tokenizer.encode(opts.prompt));
      } catch (e) {
        throw e instanceof UserError ? new UserError(`--prompt: ${e.message}`) : e;
      }
      if (ids.length > run.model.blockSize) {
        throw new UserError(`--prompt is ${ids.length} tokens; ${run.spec.name} attends over at most ${run.model.blockSize} (its block_size)`);
      }
      const maps = selectMaps(await attentionMaps(run.model, ids), opts, run.spec.name);
      const tokens = ids.map((id) => run.tokenizer.decode([id]));
      const mark = `${MARKER} from ${commentText(run.dir)} for ${commentText(JSON.stringify(opts.prompt))} -->`;
      const files = new Map<string, string>();
      for (const m of maps) files.set(mapFileName(m), `${mark}\n${attentionSvg(m, tokens)}`);
      const html = attentionIndexHtml(`${run.spec.name}: attention at step ${run.meta.step}`, opts.prompt, maps);
      files.set("index.html", html.replace("<!doctype html>\n", `<!doctype html>\n${mark}\n`));
      const out = resolve(opts.out ?? join(run.dir, "attention"));
      checkOutputDir(out, opts.out === undefined ? out : `--out ${opts.out}`);
      const options = (name: string): OutputOptions => ({ label: join(out, name), command: "babygpt attention", owns: (head) => head.includes(MARKER), force: opts.force ?? false });
      // Every file checked before any is written: a refusal changes nothing.
      if (!existsSync(out)) makeDirs(out, { label: `--out ${out}` });
      else for (const name of files.keys()) checkOutputFile(join(out, name), options(name));
      for (const [name, text] of files) writeOutputFile(join(out, name), text, options(name));
      const layers = new Set(maps.map((m) => m.layer)).size;
      console.log(`wrote ${maps.length} map${maps.length === 1 ? "" : "s"} (${layers} layer${layers === 1 ? "" : "s"}, ${ids.length} tokens) and index.html to ${shown(out)}`);
    });
}

/** A path as the user would type it: relative to the working directory when it is under it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

/** The maps --layer and --head ask for; a model without attention, or a filter matching nothing, is refused. */
function selectMaps(all: AttentionMap[], opts: AttentionOptions, name: string): AttentionMap[] {
  if (all.length === 0) throw new UserError(`${name} has no attention layer, so there is nothing to draw`);
  const layers = [...new Set(all.map((m) => m.layer))];
  let maps = all;
  if (opts.layer !== undefined) {
    if (!layers.includes(opts.layer)) throw new UserError(`--layer ${opts.layer}: ${name}'s attention layers are ${layers.join(", ")}`);
    maps = maps.filter((m) => m.layer === opts.layer);
  }
  if (opts.head !== undefined) {
    const most = Math.max(...maps.map((m) => m.head));
    if (opts.head > most) throw new UserError(`--head ${opts.head}: ${opts.layer ?? name} has heads 0 to ${most}`);
    maps = maps.filter((m) => m.head === opts.head);
  }
  return maps;
}

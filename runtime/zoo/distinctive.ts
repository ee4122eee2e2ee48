// A spec's distinctive lines: the lines of its model (and its definitions) that its baseline's do not
// have, as written, in order. Against GPT-2's spec they are what makes Llama Llama (rms_norm, rope: true,
// gated: true, …); GPT-2's own are read against the ladder's baby GPT. Whitespace and list dashes do not
// count as differences; structure alone (a `body:`), layer names, skip labels and YAML anchors are never
// distinctive; a definition shows as `define: NAME`.
import { readFileSync } from "node:fs";

/** The top-level sections whose lines describe the architecture. */
const SECTIONS = new Set(["model", "define"]);

/** Lines that only carry the layout or a label, never what differs. */
const STRUCTURE = /^(body|layers|branches|define|model):$|^(name|as|from|times):|^[*&]|: [*&]|^<<:/;

/** Each line of the model and define sections, trimmed, without a list's dash or a trailing comment. */
function architectureLines(text: string): { shown: string; key: string }[] {
  const out: { shown: string; key: string }[] = [];
  let section = "";
  for (const line of text.split("\n")) {
    if (/^\S/.test(line)) section = line.split(":")[0]!.trim();
    if (!SECTIONS.has(section) || line.trim() === "" || line.trim().startsWith("#")) continue;
    const bare = line.replace(/\s+#.*$/, "").trim().replace(/^(- )+/, "");
    const definition = section === "define" && /^ {2}[a-z][a-z0-9_]*:$/.test(line.trimEnd());
    const shown = definition ? `define: ${bare.slice(0, -1)}` : bare;
    if (shown === "" || STRUCTURE.test(shown) || shown === "-") continue;
    out.push({ shown, key: shown.replace(/\s+/g, " ") });
  }
  return out;
}

/** The lines of `specFile` that `baselineFile` lacks, each once, in the spec's order. */
export function distinctiveLines(specFile: string, baselineFile: string): string[] {
  const baseline = new Set(architectureLines(readFileSync(baselineFile, "utf8")).map((l) => l.key));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of architectureLines(readFileSync(specFile, "utf8"))) {
    if (baseline.has(l.key) || seen.has(l.key)) continue;
    seen.add(l.key);
    out.push(l.shown);
  }
  return out;
}

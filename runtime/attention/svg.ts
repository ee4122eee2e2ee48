// Drawing attention maps: one SVG heatmap per head (rows = query positions, columns = the positions they
// read, both labelled with the prompt's tokens) and an HTML page that lays a model's maps out as a grid,
// a row per layer and a column per head. Plain strings, no dependency: the CLI writes them to files, the
// ladder's report links them, the playground puts them in the page.
import type { AttentionMap } from "./maps.js";
import { mapLayer, tokenLabel } from "./maps.js";

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The file name of a head's map: blocks.0.attn-h1.svg. */
export function mapFileName(map: Pick<AttentionMap, "layer" | "head" | "application">): string {
  return `${map.layer}${map.application === undefined ? "" : `-a${map.application + 1}`}-h${map.head}.svg`;
}

/** White (0) to dark blue (1); the same scale for every map, so heads compare at a glance. */
function shade(w: number): string {
  const t = Math.min(1, Math.max(0, w));
  const mix = (a: number, b: number): number => Math.round(a + (b - a) * t);
  return `rgb(${mix(255, 8)},${mix(255, 48)},${mix(255, 107)})`;
}

/** One head's map. `tokens` are the prompt's tokens as text, one per row and column. */
export function attentionSvg(map: AttentionMap, tokens: readonly string[]): string {
  const T = map.weights.length;
  if (tokens.length !== T) throw new RangeError(`attentionSvg: ${tokens.length} labels for ${T} positions`);
  const cell = Math.max(4, Math.min(22, Math.floor(560 / T)));
  const font = Math.max(6, Math.min(12, cell - 4));
  const labels = tokens.map(tokenLabel);
  const labelWidth = Math.ceil(Math.max(1, ...labels.map((l) => Array.from(l).length)) * font * 0.65) + 8;
  const left = labelWidth + 4;
  const top = labelWidth + 28;
  const width = left + T * cell + 8;
  const height = top + T * cell + 8;
  const title = `${mapLayer(map)} · head ${map.head}`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${font}">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="16" font-family="sans-serif" font-size="13">${esc(title)}</text>`,
  ];
  for (let i = 0; i < T; i++) {
    const y = top + i * cell;
    out.push(`<text x="${left - 4}" y="${y + cell / 2 + font / 3}" text-anchor="end">${esc(labels[i]!)}</text>`);
    const x = left + i * cell + cell / 2 + font / 3;
    out.push(`<text transform="translate(${x} ${top - 4}) rotate(-90)">${esc(labels[i]!)}</text>`);
  }
  for (let i = 0; i < T; i++) {
    const row = map.weights[i]!;
    for (let j = 0; j <= i; j++) {
      const w = row[j]!;
      out.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${shade(w)}"><title>${esc(labels[i]!)} → ${esc(labels[j]!)}: ${w.toFixed(3)}</title></rect>`,
      );
    }
  }
  out.push(`<rect x="${left}" y="${top}" width="${T * cell}" height="${T * cell}" fill="none" stroke="#999"/>`);
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/** The grid page: a row per layer, a column per head, each cell the head's SVG file. */
export function attentionIndexHtml(title: string, prompt: string, maps: readonly Pick<AttentionMap, "layer" | "head" | "application">[]): string {
  const layers = [...new Set(maps.map((m) => mapLayer(m)))];
  const rows = layers.map((layer) => {
    const cells = maps
      .filter((m) => mapLayer(m) === layer)
      .map((m) => `<td><img src="${esc(encodeURIComponent(mapFileName(m)))}" alt="${esc(`${mapLayer(m)} head ${m.head}`)}"></td>`)
      .join("");
    return `<tr><th>${esc(layer)}</th>${cells}</tr>`;
  });
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    "<style>body{font-family:sans-serif;margin:1.5em}th{text-align:right;padding-right:1em;vertical-align:top}td{vertical-align:top}img{max-width:100%}</style>",
    "</head><body>",
    `<h1>${esc(title)}</h1>`,
    `<p>Prompt: <code>${esc(prompt)}</code>. Rows of a map are query positions, columns the positions they read; darker is more weight (each row sums to 1).</p>`,
    `<table>${rows.join("\n")}</table>`,
    "</body></html>",
    "",
  ].join("\n");
}

/** A model's maps in one SVG: a row per layer, a column per head (the ladder's report shows one per step). */
export function attentionGridSvg(title: string, maps: readonly AttentionMap[], tokens: readonly string[]): string {
  const layers = [...new Set(maps.map((m) => mapLayer(m)))];
  const panels = maps.map((m) => {
    const svg = attentionSvg(m, tokens).trimEnd();
    const size = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    return { m, svg, w: Number(size[1]), h: Number(size[2]) };
  });
  const w = Math.max(...panels.map((p) => p.w));
  const h = Math.max(...panels.map((p) => p.h));
  const cols = Math.max(...layers.map((l) => maps.filter((m) => mapLayer(m) === l).length));
  const width = cols * w;
  const height = 28 + layers.length * h;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="8" y="19" font-family="sans-serif" font-size="15">${esc(title)}</text>`,
  ];
  for (const p of panels) {
    const row = layers.indexOf(mapLayer(p.m));
    const col = maps.filter((m) => mapLayer(m) === mapLayer(p.m)).indexOf(p.m);
    out.push(p.svg.replace("<svg ", `<svg x="${col * w}" y="${28 + row * h}" `));
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

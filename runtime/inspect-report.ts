// inspect's summary as text: the header line, the layer table and the totals. Pure, so `babygpt inspect`
// prints it and the playground shows the same table in the page.
import { activationBytes, activeParams, costs, countParams, summaryRows, trainingBytes, type LoadedSpec, type ModelIR } from "../compiler/index.js";
import { formatBytes, formatFlops, formatInt, table } from "../util/format.js";

export function inspectReport(loaded: LoadedSpec, ir: ModelIR, vocab: number, batch: number): string {
  const rows = summaryRows(ir, vocab);
  const total = countParams(ir, vocab);
  // With experts, a token runs only the router's choice of them: the count that sets its compute.
  const active = activeParams(ir, vocab);
  const c = costs(ir, { vocab, T: ir.blockSize });
  // The note column only when a row has one (a tied head), so the common table stays four columns.
  const notes = rows.some((r) => r.note !== undefined);
  return [
    `${ir.name} (${loaded.files[0]!.path}) → ${ir.className}, vocab ${formatInt(vocab)}, block_size ${ir.blockSize}`,
    "",
    table(
      ["layer", "kind", "output", "params", ...(notes ? ["note"] : [])],
      rows.map((r) => ["  ".repeat(r.depth) + r.path, r.kind, r.output, formatInt(r.params), ...(notes ? [r.note ?? ""] : [])]),
      ["l", "l", "l", "r", "l"],
    ),
    "",
    `parameters:            ${formatInt(total)} (${formatBytes(total * 4)} as float32)`,
    ...(active === total ? [] : [`active per token:      ${formatInt(active)} (the experts a token runs, the router's top_k)`]),
    `forward FLOPs/token:   ${formatFlops(c.flopsPerToken)} at T=${ir.blockSize} (training ≈ 3×: ${formatFlops(3 * c.flopsPerToken)})`,
    `activations at B=${batch}:`.padEnd(23) + `${formatBytes(activationBytes(ir, vocab, batch))}`,
    `training memory:       ${formatBytes(trainingBytes(ir, vocab, batch))} (weights, gradients, Adam moments, activations)`,
  ].join("\n");
}

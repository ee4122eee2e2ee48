// Numbers and tables as the project prints them (a terminal, a report, an error message): shared by the
// compiler's and the runtime's sides, so neither reaches into the other's folders for them.
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** n in the largest unit it reaches (each unit `base` times the last), with two decimals past the first. */
function scaled(n: number, base: number, units: readonly string[], decimals: number): string {
  let i = 0;
  while (n >= base && i < units.length - 1) {
    n /= base;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : decimals)} ${units[i]}`;
}

export function formatBytes(n: number): string {
  return scaled(n, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], 1);
}

export function formatFlops(n: number): string {
  return scaled(n, 1000, ["FLOP", "KFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP"], 2);
}

/** Left-aligned text columns, right-aligned where `align` says so. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ("l" | "r")[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (align[i] === "r" ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  return [line(header), rule, ...rows.map(line)].join("\n");
}

// Sections of a Markdown file between a start and an end marker, which one part of the benchmark writes
// and the others keep (docs/bench.md: the data bench's, the GPU kit's, the paired rounds').

/** Where the section from `start` to `end` (both included) lies in `text`. */
export function block(text: string, start: string, end: string): { from: number; to: number } | undefined {
  const from = text.indexOf(start);
  const at = from < 0 ? -1 : text.indexOf(end, from);
  return from < 0 || at < 0 ? undefined : { from, to: at + end.length };
}

/** `text` with the section replaced by `section`, or `section` appended where it has none. */
export function withSection(text: string, start: string, end: string, section: string): string {
  const b = block(text, start, end);
  return b ? text.slice(0, b.from) + section.trimEnd() + text.slice(b.to) : `${text.trimEnd()}\n\n${section.trimEnd()}\n`;
}

/** The section of `text`, if it has one. */
export function sectionOf(text: string, start: string, end: string): string | undefined {
  const b = block(text, start, end);
  return b ? text.slice(b.from, b.to) : undefined;
}

// The progress display: in logs (not a terminal), a line when the work ends with a true ETA; on a
// terminal, a bar that fits the width (a line one column too wide wraps, and every redraw leaves one
// behind); --quiet drops the bar but not the log lines.
import { describe, expect, it } from "vitest";
import { progress, renderProgress } from "../../runtime/cli/progress.js";

function logStream(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = "";
  const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, lines: () => text.split("\n").filter(Boolean) };
}

describe("progress in a log", () => {
  it.each([
    { name: "from step 1", first: 1 },
    { name: "resumed at step 300", first: 301 },
  ])("writes the last step with ETA 0s ($name)", ({ first }) => {
    const { stream, lines } = logStream();
    const p = progress("train", 600, stream);
    for (let step = first; step <= 600; step++) p.update(step, "loss 2.5");
    expect(lines().at(-1)).toMatch(/^train █{24} 600\/600 loss 2\.5 \| ETA 0s$/);
  });

  it("writes no bar when quiet, but still the log lines", () => {
    const { stream, lines } = logStream();
    const p = progress("train", 10, stream, true);
    for (let step = 1; step <= 10; step++) p.update(step);
    p.log("step 10: train loss 1.0000, val loss 1.0000");
    expect(lines()).toEqual(["step 10: train loss 1.0000, val loss 1.0000"]);
  });
});

describe("a progress line on a terminal", () => {
  const status = "loss 2.4715 | 1,889,900 tok/s";
  it.each([200, 80, 60, 40, 20])("fits %i columns", (columns) => {
    const line = renderProgress("train", 1234, 100000, status, "1m05s", columns);
    expect(Array.from(line).length).toBeLessThanOrEqual(columns - 1);
    expect(line.startsWith("train")).toBe(true);
  });

  it("draws the widest bar where there is room, a narrower one where not, none where it cannot fit", () => {
    expect(renderProgress("train", 50, 100, status, "5s", 200)).toMatch(/^train [█░]{24} 50\/100 /);
    const narrow = renderProgress("train", 50, 100, status, "5s", 60);
    expect(narrow).toMatch(/^train █{4}░{3} 50\/100 loss 2\.4715 \| 1,889,900 tok\/s \| ETA 5s$/);
    expect(narrow).toHaveLength(59);
    expect(renderProgress("train", 50, 100, status, "5s", 40)).toBe("train 50/100 loss 2.4715 | 1,889,900 t…");
  });
});

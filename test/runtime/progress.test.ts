// The progress display in logs (not a terminal): a line when the work ends, with a true ETA.
import { describe, expect, it } from "vitest";
import { progress } from "../../runtime/cli/progress.js";

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

  it("writes nothing when quiet", () => {
    const { stream, lines } = logStream();
    const p = progress("train", 10, stream, true);
    for (let step = 1; step <= 10; step++) p.update(step);
    p.log("a line");
    expect(lines()).toEqual([]);
  });
});

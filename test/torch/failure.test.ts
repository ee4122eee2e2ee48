// failureSummary: one line from torchrun's error report. The fixture is torchrun 1.13's report of a job
// whose rank 1 was killed (SIGKILL) and whose rank 0 then failed on the lost connection, noticed first.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { failureSummary } from "../../runtime/torch/failure.js";

const peerKilled = readFileSync(new URL("./fixtures/torchrun-peer-killed.txt", import.meta.url), "utf8");
const rootOnly = peerKilled.slice(0, peerKilled.indexOf("Failures:")) + "Failures:\n  <NO_OTHER_FAILURES>\n" + peerKilled.slice(peerKilled.indexOf("-----", peerKilled.indexOf("Failures:")));

describe("failureSummary", () => {
  const cases: Array<[string, string, number | null, NodeJS.Signals | null, string]> = [
    ["a killed rank is named, not the peer that failed on its lost connection", peerKilled, 1, null, "rank 1 was killed by SIGKILL"],
    ["the root cause alone, with the exception it raised", rootOnly, 1, null, "rank 0 exited with code 1 (RuntimeError: [gloo] Connection reset by peer)"],
    ["torchrun itself killed", peerKilled, null, "SIGTERM", "torchrun was killed by SIGTERM"],
    ["no report: a Python exception", "Traceback (most recent call last):\nValueError: bad job\n", 1, null, "ValueError: bad job"],
    ["no report and no exception: the last line", "something odd\nthe end\n", 3, null, "torchrun exited with code 3 (the end)"],
  ];
  it.each(cases)("%s", (_what, stderr, code, signal, expected) => {
    expect(failureSummary(stderr, code, signal)).toBe(expected);
  });
});

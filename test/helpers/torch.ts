// Whether PyTorch can run here (Debian's python3-torch under /usr/bin/python3, or BABYGPT_PYTHON). Tests of
// it skip with the reason where it cannot, except under BABYGPT_REQUIRE_TORCH=1 (CI), where a missing torch
// is a failure rather than a quiet skip.
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempFiles } from "./project.js";

export const PYTHON = process.env["BABYGPT_PYTHON"] || "/usr/bin/python3";

let probed: { version?: string; reason?: string } | undefined;

/** The torch version, or undefined when torch (or numpy) cannot be imported. */
export function torchVersion(): string | undefined {
  probe();
  return probed!.version;
}

/** Why torch tests cannot run here, or undefined when they can. Throws under BABYGPT_REQUIRE_TORCH=1. */
export function torchUnavailable(): string | undefined {
  probe();
  const reason = probed!.reason;
  if (reason && process.env["BABYGPT_REQUIRE_TORCH"] === "1") throw new Error(`BABYGPT_REQUIRE_TORCH=1 but ${reason}`);
  if (reason) console.warn(`torch tests skipped: ${reason}`);
  return reason;
}

function probe(): void {
  if (probed) return;
  const out = spawnSync(PYTHON, ["-c", "import numpy, torch; print(torch.__version__)"], { encoding: "utf8" });
  probed =
    out.status === 0
      ? { version: out.stdout.trim() }
      : {
          reason: `${PYTHON} cannot import torch and numpy (${(out.error?.message ?? out.stderr ?? "").trim().split("\n").pop()}); run bench/reference/setup.sh (Debian: apt-get install python3-torch python3-numpy)`,
        };
}

/** A real Python that cannot import torch: the system one without its site-packages. */
export function pythonWithoutTorch(): string {
  const file = join(tempFiles({}), "python3");
  writeFileSync(file, '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
  chmodSync(file, 0o755);
  return file;
}

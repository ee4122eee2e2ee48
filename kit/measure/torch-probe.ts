// Whether the torch engine can train on CUDA here: the Python it would use (runtime/torch/probe.ts:
// BABYGPT_PYTHON, /usr/bin/python3, python3), whether torch sees a GPU, and whether its attention takes
// F.scaled_dot_product_attention (PyTorch 2), which the generated modules call where it exists.
import { spawnSync } from "node:child_process";
import { probeTorch } from "../../runtime/torch/probe.js";
import type { KitResults } from "../results.js";
import { firstLine } from "./lines.js";

export interface TorchProbe {
  readonly usable: boolean;
  readonly sdpa: boolean;
  readonly outcome: KitResults["torch"];
}

/** `device` cpu: PyTorch importable is enough (--torch-device cpu, the same path without a GPU). */
export async function probeTorchForKit(device: "cuda" | "cpu"): Promise<TorchProbe> {
  const began = performance.now();
  const seconds = (): number => Math.round((performance.now() - began) / 100) / 10;
  try {
    const t = await probeTorch();
    const sdpa = spawnSync(t.python, ["-c", "import torch.nn.functional as F; print(hasattr(F, 'scaled_dot_product_attention'))"], { encoding: "utf8", timeout: 60_000 }).stdout?.trim() === "True";
    const devices = t.cuda.devices.map((d) => d.name);
    const base = { python: t.python, version: t.torch, cuda: t.cuda.available, devices, seconds: seconds() };
    if (device === "cpu") return { usable: true, sdpa, outcome: { ...base, status: "ok", note: "--torch-device cpu: the torch parts ran on the CPU" } };
    if (!t.cuda.available) return { usable: false, sdpa, outcome: { ...base, status: "skipped", note: `torch ${t.torch} under ${t.python} sees no CUDA GPU (torch.cuda.is_available() is False)` } };
    return { usable: true, sdpa, outcome: { ...base, status: "ok" } };
  } catch (e) {
    return { usable: false, sdpa: false, outcome: { status: "skipped", note: firstLine(e), seconds: seconds() } };
  }
}

// The benchmark's nanoGPT-style training step (bench/reference/nanogpt_style.py: foreach AdamW, foreach
// clipping) is the same step as babygpt's (bench/reference/model.py's train_step: AdamW and
// clip_grad_norm_ one parameter at a time), only faster: on each benchmarked spec's generated PyTorch
// module, from the same weights and batches, both give the same losses and weights (up to rounding), with
// the clip binding. Needs torch (skipped with the reason, or failing under BABYGPT_REQUIRE_TORCH=1).
import { spawnSync } from "node:child_process";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIGS } from "../../bench/bench.js";
import { PYTHON, torchUnavailable } from "../helpers/torch.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const skip = torchUnavailable();

// For each generated module on argv: 4 steps each way on one small fixed batch (smaller than the spec's,
// so that the lecture GPT stays cheap), at a learning rate and clip that make both matter. One process
// for all: importing torch is most of the cost.
const SCRIPT = `
import copy, json, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import torch, model as ref, nanogpt_style as ng
out = []
for path in sys.argv[2:]:
    torch.manual_seed(0)
    a = ref.load_model(path, 65); b = copy.deepcopy(a)
    a.eval(); b.eval()  # no dropout, so that both see the same function
    oa = torch.optim.AdamW(a.parameters(), lr=1e-2, weight_decay=0.1)
    ob = ng.make_optimizer(b, {"lr": 1e-2, "weight_decay": 0.1})
    x = torch.randint(0, 65, (2, 8)); y = torch.randint(0, 65, (2, 8))
    la = [float(ref.train_step(a, oa, x, y, 0.1)) for _ in range(4)]
    lb = [float(ng.train_step(b, ob, x, y, 0.1)) for _ in range(4)]
    diff = max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))
    out.append({"reference": la, "nanogpt": lb, "max_weight_diff": diff})
print(json.dumps(out))
`;

describe.skipIf(skip)(`nanoGPT-style training step of the benchmark${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("gives babygpt's step's losses and weights on each benchmarked spec's generated module", () => {
    const modules = CONFIGS.map((c) => join(PROJECT_ROOT, "generated", "torch", basename(c.spec).replace(/\.ya?ml$/, ".py")));
    const out = spawnSync(PYTHON, ["-c", SCRIPT, join(PROJECT_ROOT, "bench/reference"), ...modules], { encoding: "utf8", timeout: 120_000 });
    expect(out.status, out.stderr).toBe(0);
    const results = JSON.parse(out.stdout) as { reference: number[]; nanogpt: number[]; max_weight_diff: number }[];
    results.forEach(({ reference, nanogpt, max_weight_diff }, i) => {
      const name = CONFIGS[i]!.name;
      expect(reference.at(-1)!, name).toBeLessThan(reference[0]!);
      nanogpt.forEach((loss, k) => expect(loss, `${name} step ${k}`).toBeCloseTo(reference[k]!, 4));
      expect(max_weight_diff, name).toBeLessThan(1e-4);
    });
  });
});

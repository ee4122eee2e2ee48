#!/usr/bin/python3
"""PyTorch's speed on a babygpt spec: the CPU baseline that babygpt's own numbers are compared with.

    /usr/bin/python3 bench/reference/bench_torch.py specs/12-baby-gpt.yaml [--quick] [--out result.json]
    /usr/bin/python3 bench/reference/bench_torch.py resolved.json --model generated/torch/12-baby-gpt.py --settings 2x1 omp2 --styles nanogpt

The spec is a resolved spec JSON (`npx babygpt resolve specs/X.yaml --json`) or a YAML spec, which is
resolved by babygpt's own resolver first. The model is the spec's generated PyTorch module
(generated/torch/<spec>.py for a YAML spec, or --model), which already computes attention as nanoGPT
does (one projection of x for every head's q, k and v, the heads batched as (B, nh, T, hs)). It is
trained on random tokens (vocabulary 65, tinyshakespeare's characters) at the spec's batch size and
block size, with one of two training steps (--styles):

  babygpt   bench/reference/model.py's train_step, as babygpt's trainer runs it: AdamW and
            clip_grad_norm_ as PyTorch 1.13 runs them by default on the CPU, one parameter at a time
  nanogpt   bench/reference/nanogpt_style.py's: AdamW with foreach=True and the global norm's clipping
            as multi-tensor (foreach) calls, as nanoGPT's training loop runs them

and on two builds of OpenBLAS under Debian's torch, which reaches BLAS through libblas.so.3:

  AxB       the pthread build (libopenblas0-pthread, the system's libblas.so.3), OMP_NUM_THREADS=A for
            torch's OpenMP pool and OPENBLAS_NUM_THREADS=B for OpenBLAS's own pthread pool: two pools
            that compete for the same cores when both are above 1
  ompA      the OpenMP build (libopenblas0-openmp, put first with LD_LIBRARY_PATH), OMP_NUM_THREADS=A:
            OpenBLAS runs on torch's OpenMP pool, one pool for both

Every (style, setting) pair runs in a fresh worker process (this script with --worker), which measures:

  ms_per_iter            median time of one training iteration after warm-up: forward, backward,
                         gradient clipping when the spec sets grad_clip (babygpt's trainer does it
                         too), and an AdamW step with the spec's hyperparameters
  tokens_per_sec         batch_size * block_size / that median
  sampling               the benchmark's sampling protocol (bench/sampling.json; --prompt-tokens,
                         --sample-tokens, --sample-warmup, --sample-repeats, --temperature): one untimed
                         generate of the warm-up count, then --sample-repeats generates (the median
                         timed) of --sample-tokens new tokens after a prompt
                         of --prompt-tokens, timed whole; each token from the last block_size tokens,
                         the whole window every token (the generated module, as nanoGPT's, has no KV
                         cache). Recorded as prompt_tokens, new_tokens (as generated), seconds,
                         tokens_per_sec (of every row), batch, cached (false); --sample-batch N
                         generates N rows of the prompt at once. Sampling does not depend on the training
                         step, so only the first style's workers sample (every thread setting).
  sgemm_gflops           a 768x768x768 float32 product through torch.mm (which calls the BLAS sgemm)
  peak_rss_mib           the worker's peak resident memory, torch itself included
  other_cpu_load         CPU the rest of the machine used meanwhile, in cores: a busy machine skews
                         every number here, a thread pool sharing a busy core the most

Each setting needs its own process: OpenMP (torch's intra-op threads) and OpenBLAS size their thread
pools from these variables once, when the libraries load. Iterations stop early once a setting has
spent --budget seconds (at least 3 are timed), so a big spec stays affordable. The JSON report
(stdout, and --out) lists every (style, setting) and the best (fastest median iteration) overall and
per style, with the torch version and the BLAS each worker really loaded (a setting whose library did
not load as asked is reported as an error, with what was loaded instead). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_ROOT = os.path.dirname(os.path.dirname(HERE))
# (name, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS or None, OpenBLAS build)
# The benchmark's sampling protocol, shared with babygpt's side (bench/sampling.ts reads it too).
with open(os.path.join(os.path.dirname(HERE), "sampling.json"), encoding="utf-8") as _f:
    SAMPLING = json.load(_f)
THREAD_SETTINGS = [(f"{omp}x{blas}", omp, blas, "pthread") for omp in (1, 2) for blas in (1, 2)] + [(f"omp{omp}", omp, None, "openmp") for omp in (1, 2)]
STYLES = ("babygpt", "nanogpt")
MIN_TIMED_ITERS = 3


# --------------------------------------------------------------------------------------------------
# Orchestrator: one worker process per thread setting
# --------------------------------------------------------------------------------------------------


def resolve_spec(path: str) -> Dict[str, Any]:
    if path.endswith((".yaml", ".yml")):
        # babygpt's own resolver (extends, defaults), so there is one source of truth for specs.
        cli = os.path.join(PROJECT_ROOT, "bin", "babygpt.mjs")
        out = subprocess.run(["node", cli, "resolve", os.path.abspath(path), "--json"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def parse_setting(text: str) -> Tuple[str, int, Optional[int], str]:
    text = text.lower()
    if text.startswith("omp"):
        return text, int(text[3:]), None, "openmp"
    omp, blas = (int(n) for n in text.split("x"))
    return text, omp, blas, "pthread"


def openmp_blas_dir() -> Optional[str]:
    """The directory of the OpenMP build's libblas.so.3 (Debian's multiarch layout), if installed."""
    found = sorted(glob.glob("/usr/lib/*/openblas-openmp/libblas.so.3"))
    return os.path.dirname(found[0]) if found else None


def cpu_busy_seconds() -> float:
    """Busy CPU time of the whole machine so far, from /proc/stat (every field but idle and iowait)."""
    with open("/proc/stat", encoding="utf-8") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def blas_summary(details: Dict[str, Any]) -> str:
    """One line for tables: what OpenBLAS says of itself (or the libraries loaded), and torch's build."""
    what = details.get("openblas_config") or ", ".join(os.path.basename(p) for p in details.get("loaded", [])) or "unknown"
    return f"{what} (torch BLAS_INFO={details.get('build_blas_info')})"


def run_settings(args: argparse.Namespace, spec: Dict[str, Any]) -> Dict[str, Any]:
    settings = [parse_setting(s) for s in args.settings] if args.settings else THREAD_SETTINGS
    styles = args.styles or list(STYLES)
    results: List[Dict[str, Any]] = []
    shared: Dict[str, Any] = {}
    worker_args = ["--iters", str(args.iters), "--warmup", str(args.warmup), "--prompt-tokens", str(args.prompt_tokens), "--sample-warmup", str(args.sample_warmup), "--sample-repeats", str(args.sample_repeats), "--sample-batch", str(args.sample_batch)]
    worker_args += ["--vocab", str(args.vocab), "--budget", str(args.budget), "--model", args.model] + (["--quick"] if args.quick else []) + (["--sample-only"] if args.sample_only else [])
    openmp_dir = openmp_blas_dir()
    for style in styles:
        for name, omp, blas, build in settings:
            entry = {"style": style, "setting": name, "blas_build": build, "omp_num_threads": omp, "openblas_num_threads": blas}
            env = {**os.environ, "OMP_NUM_THREADS": str(omp)}
            env.pop("OPENBLAS_NUM_THREADS", None)
            if blas is not None:
                env["OPENBLAS_NUM_THREADS"] = str(blas)
            if build == "openmp":
                if openmp_dir is None:
                    results.append({**entry, "error": "not measured: no /usr/lib/*/openblas-openmp/libblas.so.3 on this machine (apt-get install libopenblas0-openmp)"})
                    continue
                env["LD_LIBRARY_PATH"] = openmp_dir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
            # torch sizes its intra-op pool from MKL_NUM_THREADS in preference to OMP_NUM_THREADS
            # (ATen's intraop_default_num_threads), so a stray one would silently override the setting.
            env.pop("MKL_NUM_THREADS", None)
            print(f"bench_torch: {spec.get('name')}: {style}, {build} OpenBLAS, OMP_NUM_THREADS={omp} OPENBLAS_NUM_THREADS={blas if blas is not None else 'unset'} ...", file=sys.stderr, flush=True)
            busy_before, children_before, wall_before = cpu_busy_seconds(), children_cpu_seconds(), time.monotonic()
            sample_tokens = args.sample_tokens if style == styles[0] else 0
            if args.sample_only and not sample_tokens:
                continue
            proc = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--worker", "--style", style, "--sample-tokens", str(sample_tokens), *worker_args],
                input=json.dumps(spec),
                env=env,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                results.append({**entry, "error": f"the worker exited with status {proc.returncode}: {last}"})
                print(proc.stderr, file=sys.stderr)
                continue
            result = {**entry, **json.loads(proc.stdout)}
            loaded = result["blas_details"].get("loaded", [])
            if not any(f"openblas-{build}" in p for p in loaded):
                results.append({**entry, "error": f"asked for the {build} OpenBLAS, but the worker loaded {', '.join(loaded) or 'no BLAS library'}"})
                continue
            # Facts about the installation are the same in every worker: reported once, at the top.
            facts = {k: result.pop(k) for k in ("torch_version", "blas_details", "parameters")}
            result["openblas_threads_seen"] = facts["blas_details"].pop("openblas_num_threads", None)
            result["blas_config"] = facts["blas_details"].get("openblas_config")
            if build == "pthread" or not shared:
                shared = facts
            others = (cpu_busy_seconds() - busy_before) - (children_cpu_seconds() - children_before)
            result["other_cpu_load"] = round(max(0.0, others) / (time.monotonic() - wall_before), 2)
            sampled = result.get("sampling")
            print(
                "bench_torch:   "
                + (f"{result['ms_per_iter']:.2f} ms/iter, {result['tokens_per_sec']:.0f} tokens/s, " if not args.sample_only else "")
                + (f"sampling {sampled['new_tokens']} tokens at {sampled['tokens_per_sec']:.1f} tokens/s, " if sampled else "")
                + (f"sgemm {result['sgemm_gflops']:.1f} GFLOP/s, peak RSS {result['peak_rss_mib']:.0f} MiB, " if not args.sample_only else "")
                + f"other load {result['other_cpu_load']} cores",
                file=sys.stderr,
                flush=True,
            )
            results.append(result)
    ok = [r for r in results if "error" not in r and "ms_per_iter" in r]
    best = min(ok, key=lambda r: r["ms_per_iter"]) if ok else None
    best_by_style = {style: min((r for r in ok if r["style"] == style), key=lambda r: r["ms_per_iter"], default=None) for style in styles}
    details = shared.get("blas_details")
    return {
        "spec": spec.get("name"),
        "batch_size": spec["training"]["batch_size"],
        "block_size": spec["model"]["block_size"],
        "vocab_size": args.vocab,
        "parameters": shared.get("parameters"),
        "grad_clip": spec["training"].get("grad_clip", 0),
        "torch_version": shared.get("torch_version"),
        "blas": blas_summary(details) if details else None,
        "blas_details": details,
        "cpu_count": os.cpu_count(),
        "quick": args.quick,
        "sampling_protocol": {"prompt_tokens": args.prompt_tokens, "new_tokens": args.sample_tokens, "warmup_tokens": args.sample_warmup, "repeats": args.sample_repeats, "temperature": args.temperature, "top_k": None, "styles": styles[:1]},
        "settings": results,
        "best": best,
        "best_by_style": best_by_style,
    }


# --------------------------------------------------------------------------------------------------
# Worker: measures one thread setting (the orchestrator has set its environment)
# --------------------------------------------------------------------------------------------------


def blas_info() -> Dict[str, Any]:
    """Which BLAS torch really calls: the build's BLAS_INFO, the libraries mapped into this process, and
    OpenBLAS's description of itself and its thread count when it is the one loaded. (Debian's torch
    says BLAS_INFO=generic: it links libblas.so.3, which the alternatives system points at a BLAS.)"""
    import torch

    config = torch.__config__.show()
    build = next((w.split("=", 1)[1] for w in config.replace(",", " ").split() if w.startswith("BLAS_INFO=")), None)
    with open("/proc/self/maps", encoding="utf-8") as f:
        paths = {line.split()[-1] for line in f if len(line.split()) >= 6}
    loaded = sorted({os.path.realpath(p) for p in paths if any(k in os.path.basename(p) for k in ("blas", "mkl", "lapack"))})
    info: Dict[str, Any] = {"build_blas_info": build, "loaded": loaded}
    candidate = next((p for p in loaded if "openblas" in p), None) or next((p for p in loaded if "libblas" in p), None)
    if candidate:
        try:
            lib = ctypes.CDLL(candidate)
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["openblas_config"] = lib.openblas_get_config().decode()
            info["openblas_num_threads"] = lib.openblas_get_num_threads()
        except (OSError, AttributeError):
            pass  # the reference BLAS, or another implementation without these entry points
    return info


def sgemm_gflops(reps: int) -> float:
    import torch

    n = 768
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        torch.mm(a, b)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def worker(args: argparse.Namespace) -> Dict[str, Any]:
    import torch

    sys.dont_write_bytecode = True  # no __pycache__ in the checkout
    sys.path.insert(0, HERE)
    from model import load_model
    from model import train_step as reference_train_step

    spec = json.load(sys.stdin)
    training = spec["training"]
    B, T = training["batch_size"], spec["model"]["block_size"]
    torch.manual_seed(training.get("seed", 1337))
    opt = training.get("optimizer", {})

    model = load_model(args.model, args.vocab)
    if args.style == "nanogpt":
        import nanogpt_style

        optimizer = nanogpt_style.make_optimizer(model, opt)
        train_step = nanogpt_style.train_step
    else:
        optimizer = torch.optim.AdamW(
            model.parameters(),
            lr=opt.get("lr", 1e-3),
            betas=tuple(opt.get("betas", (0.9, 0.999))),
            eps=opt.get("eps", 1e-8),
            weight_decay=opt.get("weight_decay", 0.01),
        )
        train_step = reference_train_step
    model.train()  # as in training: dropout where the spec has it
    clip = training.get("grad_clip", 0)
    # Batches drawn up front, so that the timing is the model's alone.
    batches = [(torch.randint(0, args.vocab, (B, T)), torch.randint(0, args.vocab, (B, T))) for _ in range(4)]

    def step(i: int) -> float:
        x, y = batches[i % len(batches)]
        start = time.perf_counter()
        train_step(model, optimizer, x, y, clip)
        return time.perf_counter() - start

    # Warm-up (allocator, thread pools, first-call dispatch), capped at a quarter of the budget.
    began = time.perf_counter()
    warmed = 0
    while not args.sample_only and warmed < max(1, args.warmup) and (warmed == 0 or time.perf_counter() - began < args.budget / 4):
        step(warmed)
        warmed += 1
    times: List[float] = []
    began = time.perf_counter()
    while not args.sample_only and len(times) < args.iters and (len(times) < MIN_TIMED_ITERS or time.perf_counter() - began < args.budget):
        times.append(step(len(times)))

    # Sampling by the benchmark's protocol: the generated module's generate, timed whole, as a PyTorch
    # user calls it (one forward pass per token over the last block_size tokens, no KV cache).
    sampling = None
    if args.sample_tokens > 0:
        model.eval()
        prompt = (torch.arange(args.prompt_tokens) % args.vocab).view(1, -1).repeat(args.sample_batch, 1)  # (batch, prompt_tokens)
        model.generate(prompt, args.sample_warmup)
        # The protocol's repeats, one after another; the median is the figure, as on babygpt's side.
        timed = []
        for _ in range(max(1, args.sample_repeats)):
            began = time.perf_counter()
            out = model.generate(prompt, args.sample_tokens)
            timed.append(time.perf_counter() - began)
        seconds = statistics.median(timed)
        new = out.shape[1] - prompt.shape[1]
        sampling = {"cached": False, "prompt_tokens": prompt.shape[1], "new_tokens": new, "batch": args.sample_batch, "seconds": seconds, "tokens_per_sec": args.sample_batch * new / seconds, "repeats": len(timed)}

    threads = {
        "omp_num_threads": int(os.environ.get("OMP_NUM_THREADS", "0")),
        "openblas_num_threads": int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
        "torch_num_threads": torch.get_num_threads(),
    }
    if args.sample_only:
        return {**threads, **({"sampling": sampling} if sampling else {}), "torch_version": torch.__version__, "blas_details": blas_info(), "parameters": sum(p.numel() for p in model.parameters())}
    ms = statistics.median(times) * 1000
    return {
        **threads,
        "ms_per_iter": ms,
        "ms_per_iter_min": min(times) * 1000,
        "iters_timed": len(times),
        "warmup_iters": warmed,
        "tokens_per_sec": B * T / (ms / 1000),
        **({"sampling": sampling} if sampling else {}),
        "sgemm_gflops": sgemm_gflops(5 if args.quick else 20),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # ru_maxrss is KiB on Linux
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch_version": torch.__version__,
        "blas_details": blas_info(),
    }


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec", nargs="?", help="resolved spec JSON, or a YAML spec to resolve")
    parser.add_argument("--quick", action="store_true", help="a few iterations only (CI smoke test)")
    parser.add_argument("--iters", type=int, default=None, help="timed iterations at most (default 30, quick 3)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed iterations first (default 5, quick 1)")
    parser.add_argument("--prompt-tokens", type=int, default=SAMPLING["promptTokens"], help="sampling: the prompt's length (token ids 0, 1, ...)")
    parser.add_argument("--sample-tokens", type=int, default=SAMPLING["newTokens"], help="sampling: new tokens, one generate timed whole (0: no sampling)")
    parser.add_argument("--sample-warmup", type=int, default=SAMPLING["warmupTokens"], help="sampling: new tokens of the untimed generate before it")
    parser.add_argument("--sample-only", action="store_true", help="no training steps: sampling alone (the benchmark's paired sampling rounds)")
    parser.add_argument("--sample-repeats", type=int, default=SAMPLING["repeats"], help="sampling: timed generates, one after another; the median is the figure")
    parser.add_argument("--sample-batch", type=int, default=1, help="sampling: rows generated as one batch (the prompt repeated); tokens_per_sec counts every row's")
    parser.add_argument("--temperature", type=float, default=float(SAMPLING["temperature"]), help="sampling: must be 1, the generated module's generate takes no temperature or top-k")
    parser.add_argument("--budget", type=float, default=None, help="seconds of training iterations per setting before stopping early (default 60, quick 10)")
    parser.add_argument("--vocab", type=int, default=65)
    parser.add_argument("--settings", nargs="+", metavar="SETTING", help="thread settings to try: OMPxBLAS on the pthread OpenBLAS (1x2), ompN on the OpenMP one (omp2); default all six")
    parser.add_argument("--styles", nargs="+", choices=STYLES, help="training steps to time (default: both)")
    parser.add_argument("--style", choices=STYLES, default="babygpt", help=argparse.SUPPRESS)
    parser.add_argument("--model", help="the generated PyTorch module (default for a YAML spec: generated/torch/<spec>.py)")
    parser.add_argument("--out", help="also write the JSON report here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.iters = args.iters if args.iters is not None else (3 if args.quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 5)
    if args.temperature != 1:
        parser.error(f"--temperature {args.temperature}: the generated module's generate samples at temperature 1 only")
    if args.prompt_tokens < 1:
        parser.error("--prompt-tokens must be at least 1")
    if args.sample_batch < 1:
        parser.error("--sample-batch must be at least 1")
    args.budget = args.budget if args.budget is not None else (10.0 if args.quick else 60.0)

    if args.worker:
        json.dump(worker(args), sys.stdout)
        return
    if not args.spec:
        parser.error("give a spec")
    if not args.model:
        if not args.spec.endswith((".yaml", ".yml")):
            parser.error("a resolved spec JSON needs --model, its generated PyTorch module")
        # `npx babygpt compile` writes a spec's PyTorch module to generated/torch/<spec file name>.py.
        args.model = os.path.join(PROJECT_ROOT, "generated", "torch", os.path.basename(args.spec).rsplit(".", 1)[0] + ".py")
    report = run_settings(args, resolve_spec(args.spec))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    # Nothing measured is a failure: no training step (or, with --sample-only, no generation).
    if report["best"] is None and not (args.sample_only and any("sampling" in r for r in report["settings"])):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""babygpt's torch engine: trains a generated PyTorch module under torchrun, into a babygpt run directory.

    torchrun --nproc_per_node N runtime/torch/train.py RUN/torch/job.json

`babygpt train <spec> --engine torch` writes the job and launches this (runtime/torch/engine.ts); run it by
hand only to debug. The job names the run directory, the generated module (the run's model.py, the same
text as generated/torch/<spec>.py), the token ids the TypeScript side prepared (uint16 or uint32, as
nanoGPT's train.bin and val.bin, so Python needs no tokenizer), the spec's training settings and what
meta.json must record.

What it does is what runtime/train/trainer.ts does, on PyTorch:

* The same batches. Every rank draws the global batch's window starts from the TypeScript trainer's own
  PRNG (stream.py) and takes its slice, so N processes together see exactly the batch one process would,
  and a run keeps its batch stream when it moves between engines. Loss estimates draw theirs the same way,
  split across ranks.
* DDP (gloo on CPU, NCCL on CUDA) averages the gradients: the mean over the global batch, as one process
  computes it. A rank's slice that does not fit runs as micro-batches with gradient accumulation.
* bf16 autocast on CUDA (fp32 where the GPU has no bf16), fp32 on CPU; the spec's optimizer (PyTorch's own
  SGD, Adam, AdamW), schedule, clipping by global norm, eval interval, checkpoint interval and on_nan.
* Rank 0 writes the run directory as babygpt does: model.safetensors (our parameter names),
  optimizer.safetensors (the moments by parameter name, as the TypeScript optimizer names them),
  meta.json (with the engine, devices, world size and versions), metrics.jsonl; checkpoints are atomic.
* Dropout masks come from a torch generator reseeded from (seed, rank, step) every step, so resuming within
  this engine reproduces them without storing torch's RNG state.
* A stop request (the launcher creates the job's stop file on Ctrl-C, or exits) is honoured after the
  current step, by every rank at once: rank 0 checkpoints and all exit 0.

Rank 0 reports to the launcher on stdout, one JSON object per line after the prefix "@babygpt "; anything
else on stdout or stderr is for people.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.distributed.elastic.multiprocessing.errors import record  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402

from checkpoint import CheckpointWriteError, load_checkpoint, save_checkpoint  # noqa: E402
from modules import load_generated  # noqa: E402
from stream import Prng, estimate_seed, learning_rate, window_starts  # noqa: E402

EVENT_PREFIX = "@babygpt "
EXIT_USER_ERROR = 2


class JobError(Exception):
    """Something the user can act on; rank 0 reports the message and every rank exits 2."""


class Ranks:
    """This process's place in the job, and the collectives training needs (no-ops in a single process)."""

    def __init__(self, device_kind: str):
        self.rank = int(os.environ.get("RANK", "0"))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.backend: Optional[str] = None
        if device_kind == "cuda":
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
        if self.world > 1:
            self.backend = "nccl" if device_kind == "cuda" else "gloo"
            dist.init_process_group(self.backend)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, values: Sequence[float]) -> List[float]:
        """The elementwise sum over all ranks (in float64)."""
        if self.world == 1:
            return list(values)
        t = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def gather(self, value: Any) -> List[Any]:
        if self.world == 1:
            return [value]
        out: List[Any] = [None] * self.world
        dist.all_gather_object(out, value)
        return out

    def finish(self) -> None:
        """Waits until every rank is done, so none leaves while another still needs it."""
        if self.world > 1:
            dist.barrier()


def emit(ranks: Ranks, event: str, every_node: bool = False, **fields: Any) -> None:
    """An event for the launcher: from rank 0, or with every_node from each machine's first process (the
    launchers of the other machines hear when their processes start, finish or fail)."""
    if ranks.main or (every_node and ranks.local_rank == 0):
        sys.stdout.write(EVENT_PREFIX + json.dumps({"event": event, **fields}, separators=(",", ":"), allow_nan=False) + "\n")
        sys.stdout.flush()


def js_number(x: float) -> str:
    """A float as JavaScript's String() spells it: NaN, Infinity, -Infinity (metrics.jsonl's nan records)."""
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity") if math.isinf(x) else repr(x)


def finite_or_none(x: Optional[float]) -> Optional[float]:
    """A loss as JSON can hold it: NaN and infinities become null, as JSON.stringify writes them."""
    return x if x is not None and math.isfinite(x) else None


class Tokens:
    """A split's token ids, memory-mapped from the .bin file the TypeScript side wrote."""

    def __init__(self, path: str, dtype: str):
        self.ids = np.memmap(path, dtype=np.dtype(dtype).newbyteorder("<"), mode="r")

    def __len__(self) -> int:
        return len(self.ids)

    def windows(self, starts: Sequence[int], block: int, device: torch.device):
        """x (b, T) and y (b, T) as int64: windows at the given starts and the same windows one token later."""
        x = np.stack([self.ids[s : s + block] for s in starts]).astype(np.int64)
        y = np.stack([self.ids[s + 1 : s + 1 + block] for s in starts]).astype(np.int64)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        if device.type == "cuda":
            return xt.pin_memory().to(device, non_blocking=True), yt.pin_memory().to(device, non_blocking=True)
        return xt, yt


def make_optimizer(config: Dict[str, Any], params) -> torch.optim.Optimizer:
    """PyTorch's own classes with babygpt's semantics: sgd is plain gradient descent, adam has no weight
    decay, adamw decays every parameter (one group), as runtime/train/optimizer.ts does."""
    # JSON from JavaScript spells 1e20 as an integer; PyTorch wants floats.
    lr, betas, eps = float(config["lr"]), tuple(float(b) for b in config["betas"]), float(config["eps"])
    if config["type"] == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if config["type"] == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=0.0)
    return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=float(config["weight_decay"]))


def restore_optimizer(optimizer: torch.optim.Optimizer, model: torch.nn.Module, slots: Dict[str, np.ndarray], step: int) -> None:
    """Moments saved by either engine (<param>.exp_avg, <param>.exp_avg_sq) into PyTorch's Adam state."""
    params = dict(model.named_parameters())
    for key in slots:
        name, _, kind = key.rpartition(".")
        if kind not in ("exp_avg", "exp_avg_sq") or name not in params:
            raise JobError(f"optimizer.safetensors has {key}, which matches no parameter of this model")
    for name, p in params.items():
        m, v = slots.get(f"{name}.exp_avg"), slots.get(f"{name}.exp_avg_sq")
        if m is None or v is None:
            continue
        if tuple(m.shape) != tuple(p.shape) or tuple(v.shape) != tuple(p.shape):
            raise JobError(f"optimizer.safetensors: the moments of {name} have shape {list(m.shape)}, the parameter {list(p.shape)}")
        optimizer.state[p] = {
            "step": torch.tensor(float(step)),
            "exp_avg": torch.from_numpy(m).to(p.device),
            "exp_avg_sq": torch.from_numpy(v).to(p.device),
        }


def optimizer_slots(optimizer: torch.optim.Optimizer, model: torch.nn.Module) -> Dict[str, np.ndarray]:
    out: Dict[str, np.ndarray] = {}
    for name, p in model.named_parameters():
        state = optimizer.state.get(p, {})
        for kind in ("exp_avg", "exp_avg_sq"):
            if kind in state:
                out[f"{name}.{kind}"] = state[kind].detach().float().cpu().numpy()
    return out


def versions(job: Dict[str, Any]) -> Dict[str, str]:
    v = {**job["meta"]["versions"], "torch": torch.__version__, "python": platform.python_version()}
    if torch.cuda.is_available() and torch.version.cuda:
        v["cuda"] = torch.version.cuda
        if job["device"] == "cuda" and dist.is_nccl_available():
            nccl = torch.cuda.nccl.version()  # a tuple in PyTorch 2, an int (2708 for 2.7.8) before
            v["nccl"] = ".".join(str(n) for n in nccl) if isinstance(nccl, tuple) else str(nccl)
    return v


def device_name(ranks: Ranks) -> str:
    if ranks.device.type == "cuda":
        return f"cuda:{ranks.local_rank} {torch.cuda.get_device_name(ranks.device)}"
    return f"cpu ({platform.node()})"


def inject_fault(spec: str, rank: int, step: int) -> None:
    """BABYGPT_TORCH_FAULT=RANK:STEP kills that rank with SIGKILL when it reaches that step: how the tests
    make a rank die at a known moment."""
    target_rank, target_step = (int(v) for v in spec.split(":"))
    if rank == target_rank and step == target_step:
        os.kill(os.getpid(), signal.SIGKILL)


class Trainer:
    def __init__(self, job: Dict[str, Any]):
        self.job = job
        t = job["training"]
        self.t = t
        self.B, self.T = t["batch_size"], t["block_size"]
        self.ranks = Ranks(job["device"])
        r = self.ranks
        if self.B % r.world != 0:
            raise JobError(f"training.batch_size {self.B} does not split evenly over {r.world} processes")
        self.per_rank = self.B // r.world
        self.micro = job.get("micro_batch") or self.per_rank
        if self.per_rank % self.micro != 0:
            raise JobError(f"--micro-batch {self.micro} does not divide the {self.per_rank} sequences each process takes")
        self.accumulate = self.per_rank // self.micro
        self.eval_batch = int(job.get("eval_batch") or self.micro)
        if r.device.type == "cpu":
            torch.set_num_threads(max(1, int(job.get("threads") or 1)))
        else:
            # TF32 tensor cores for float32 matmuls, as nanoGPT allows them.
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        bf16 = r.device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.autocast = (lambda: torch.autocast(device_type="cuda", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
        self.precision = "bf16 autocast (TF32 matmuls)" if bf16 else ("fp32 (TF32 matmuls)" if r.device.type == "cuda" else "fp32")

        self.train_tokens = Tokens(job["train_bin"], job["token_dtype"])
        self.val_tokens = Tokens(job["val_bin"], job["token_dtype"])
        module = load_generated(job["model_py"])
        if module.META["model_hash"] != job["model_hash"]:
            raise JobError(f"{job['model_py']} was generated for another model (model sha256 {module.META['model_hash'][:12]}…)")
        self.model = module.create_model(job["meta"]["vocabSize"])
        run = job["run_dir"]
        self.meta_prev: Optional[Dict[str, Any]] = None
        if job["resume"]:
            self.meta_prev, weights, slots = load_checkpoint(run)
        else:
            import safetensors_io

            weights, _ = safetensors_io.load(job["init_weights"])
            slots = {}
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
        self.model.to(r.device)
        self.optimizer = make_optimizer(t["optimizer"], self.model.parameters())
        self.opt_step = 0
        self.step = 0
        self.batch_rng = Prng(t["seed"])
        self.last_eval: Optional[Dict[str, float]] = None
        if self.meta_prev:
            self.opt_step = self.meta_prev["optimizerStep"]
            restore_optimizer(self.optimizer, self.model, slots, self.opt_step)
            self.batch_rng.state = self.meta_prev["rng"]["batches"]
            self.step = self.meta_prev["step"]
            self.last_eval = self.meta_prev.get("lastEval")
        self.start_step = self.step
        self.ddp = (
            DistributedDataParallel(self.model, device_ids=[r.local_rank] if r.device.type == "cuda" else None)
            if r.world > 1
            else self.model
        )
        self.devices = r.gather(device_name(r))
        self.versions = versions(job)
        # appended, never through a link standing at the name (the launcher refuses one before it starts)
        self.metrics = os.fdopen(os.open(os.path.join(run, "metrics.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644), "a", encoding="utf-8") if r.main else None
        # The step of the checkpoint on disk, once there is one.
        self.saved_step: Optional[int] = self.meta_prev["step"] if self.meta_prev else None

    def seed_dropout(self, micro_step: int) -> None:
        """Dropout masks as a function of (seed, rank, step, micro-step): a resumed run draws the ones an
        uninterrupted run would, with no generator state to store."""
        key = ((self.t["seed"] * 1_000_003 + self.ranks.rank) * 1_000_033 + self.step) * 131 + micro_step
        torch.manual_seed(key % (2**63))

    # ---- records --------------------------------------------------------------------------------

    def metric(self, record: Dict[str, Any]) -> None:
        if self.metrics:
            self.metrics.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
            self.metrics.flush()

    def checkpoint(self) -> None:
        r = self.ranks
        if not r.main:
            return
        meta = {
            "step": self.step,
            "spec": self.job["meta"]["spec"],
            # The corpus the run trains on, which eval and --resume use by default (runtime/data/run-corpus.ts).
            "corpus": self.job["meta"]["corpus"],
            "tokenizer": self.job["meta"]["tokenizer"],
            "vocabSize": self.job["meta"]["vocabSize"],
            "rng": {"batches": self.batch_rng.state, "dropout": self.job["meta"]["rngDropout"]},
            "optimizerStep": self.opt_step,
            "backend": f"torch-{r.device.type}",
            "engine": "torch",
            "devices": self.devices,
            "worldSize": r.world,
            "distributed": r.backend,
            "precision": self.precision,
            "versions": self.versions,
            # As JSON.stringify writes a NaN estimate (on_nan: skip): null.
            **({"lastEval": {k: finite_or_none(v) if k != "step" else v for k, v in self.last_eval.items()}} if self.last_eval else {}),
            "overrides": self.job["meta"]["overrides"],
        }
        weights = {k: v.detach().float().cpu().numpy() for k, v in self.model.state_dict().items()}
        save_checkpoint(self.job["run_dir"], weights, optimizer_slots(self.optimizer, self.model), meta, self.job["meta"].get("specFile"))
        emit(r, "checkpoint", step=self.step)

    # ---- evaluation -----------------------------------------------------------------------------

    @torch.no_grad()
    def batch_loss(self, tokens: Tokens, starts: Sequence[int]) -> float:
        """The mean loss over windows at `starts`, in batches that fit."""
        total = 0.0
        for i in range(0, len(starts), self.eval_batch):
            chunk = starts[i : i + self.eval_batch]
            x, y = tokens.windows(chunk, self.T, self.ranks.device)
            with self.autocast():
                _, loss = self.model(x, y)
            total += loss.item() * len(chunk)
        return total / len(starts)

    def estimate(self, tokens: Tokens, seed: int) -> float:
        """nanoGPT's estimate_loss, on the TypeScript trainer's batches: eval_iters random batches (dropout off),
        each rank taking every world-th one."""
        rng = Prng(estimate_seed(seed, self.step))
        r = self.ranks
        total = 0.0
        for i in range(self.t["eval_iters"]):
            starts = window_starts(rng, len(tokens), self.B, self.T)
            if i % r.world == r.rank:
                total += self.batch_loss(tokens, starts)
        return r.sum([total])[0] / self.t["eval_iters"]

    def evaluate(self) -> None:
        self.model.eval()
        train = self.estimate(self.train_tokens, self.t["seed"])
        val = self.estimate(self.val_tokens, self.t["seed"] + 1)
        self.model.train()
        self.metric({"type": "eval", "step": self.step, "train_loss": finite_or_none(train), "val_loss": finite_or_none(val), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        emit(self.ranks, "eval", step=self.step, train=finite_or_none(train), val=finite_or_none(val))
        if self.t["on_nan"] == "stop" and not (math.isfinite(train) and math.isfinite(val)):
            raise self.nan_stop(val if math.isfinite(train) else train)
        self.last_eval = {"step": self.step, "train": train, "val": val}

    @torch.no_grad()
    def exact_val_loss(self) -> Dict[str, float]:
        """The exact loss over the whole validation split, as `babygpt eval` computes it: contiguous windows
        of block_size, every token once, in float32 (no autocast, no TF32), the windows split across ranks."""
        r = self.ranks
        self.model.eval()
        tf32 = r.device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32
        if tf32:
            torch.backends.cuda.matmul.allow_tf32 = False
        windows = (len(self.val_tokens) - 1) // self.T
        mine = list(range(r.rank, windows, r.world))
        total = 0.0
        for i in range(0, len(mine), self.eval_batch):
            starts = [w * self.T for w in mine[i : i + self.eval_batch]]
            x, y = self.val_tokens.windows(starts, self.T, r.device)
            _, loss = self.model(x, y)
            total += loss.item() * len(starts) * self.T
        if tf32:
            torch.backends.cuda.matmul.allow_tf32 = True
        self.model.train()
        tokens = windows * self.T
        return {"loss": r.sum([total])[0] / tokens, "tokens": tokens}

    def nan_stop(self, loss: float) -> JobError:
        saved = self.saved_step
        last = (
            "no checkpoint was written yet"
            if saved is None
            else f"the last good checkpoint is in {self.job['run_dir']} (step {saved})"
            if saved < self.step
            else f"the last checkpoint, in {self.job['run_dir']} (step {saved}), holds the weights that gave this loss"
        )
        return JobError(f"the loss became {js_number(loss)} at step {self.step}; {last}. Lower the learning rate, set training.grad_clip, or set training.on_nan: skip")

    # ---- training -------------------------------------------------------------------------------

    def stop_requested(self) -> bool:
        """Rank 0 looks for the stop file and for its launcher; the answer travels with the step's loss."""
        if not self.ranks.main:
            return False
        if os.path.exists(self.job["stop_file"]):
            return True
        pid = self.job.get("launcher_pid")
        if pid:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        return False

    def train_step(self, lr: float) -> tuple[float, Optional[float], bool]:
        """One optimizer step on the global batch; returns its mean loss (the cross-entropy), the mean of
        what the model's layers added to the loss it trained on (model.aux_loss: a mixture of experts' load
        balancing; None for models without), and whether to stop after it."""
        r = self.ranks
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        starts = window_starts(self.batch_rng, len(self.train_tokens), self.B, self.T)
        mine = starts[r.rank * self.per_rank : (r.rank + 1) * self.per_rank]
        self.optimizer.zero_grad(set_to_none=True)
        local = 0.0
        local_aux: Optional[float] = None
        for k in range(self.accumulate):
            self.seed_dropout(k)
            x, y = self.train_tokens.windows(mine[k * self.micro : (k + 1) * self.micro], self.T, r.device)
            last = k == self.accumulate - 1
            sync = contextlib.nullcontext() if last or r.world == 1 else self.ddp.no_sync()
            with sync:
                with self.autocast():
                    _, loss = self.ddp(x, y)
                aux = getattr(self.model, "aux_loss", None)
                ((loss if aux is None else loss + aux) / self.accumulate).backward()
            local += loss.item()
            if aux is not None:
                local_aux = (local_aux or 0.0) + aux.item()
        if local_aux is None:
            loss_sum, stop = r.sum([local / self.accumulate, 1.0 if self.stop_requested() else 0.0])
            mean, mean_aux = loss_sum / r.world, None
        else:
            loss_sum, stop, aux_sum = r.sum([local / self.accumulate, 1.0 if self.stop_requested() else 0.0, local_aux / self.accumulate])
            mean, mean_aux = loss_sum / r.world, aux_sum / r.world
        if math.isfinite(mean) and (mean_aux is None or math.isfinite(mean_aux)):
            if self.t["grad_clip"] > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), float(self.t["grad_clip"]))
            self.optimizer.step()
            self.opt_step += 1
        elif mean_aux is not None and math.isfinite(mean):
            mean = mean + mean_aux  # what was not finite, for the nan record
        return mean, mean_aux, stop > 0

    def run(self) -> None:
        r, t = self.ranks, self.t
        fault = os.environ.get("BABYGPT_TORCH_FAULT")
        emit(
            r,
            "start",
            every_node=True,
            step=self.step,
            world=r.world,
            devices=self.devices,
            distributed=r.backend,
            precision=self.precision,
            micro_batch=self.micro,
            accumulation=self.accumulate,
            sdpa=hasattr(torch.nn.functional, "scaled_dot_product_attention"),
            versions=self.versions,
        )
        tokens_per_step = self.B * self.T
        log_every = max(1, round(t["eval_interval"] / 10))
        status = "done"
        losses: List[float] = []
        train_seconds, timed = 0.0, 0
        self.model.train()
        while self.step < t["max_iters"]:
            resumed_here = self.meta_prev is not None and self.step == self.start_step and self.last_eval is not None and self.last_eval["step"] == self.step
            if self.step % t["eval_interval"] == 0 and not resumed_here:
                self.evaluate()
                self.checkpoint()
                self.saved_step = self.step
            if fault:
                inject_fault(fault, r.rank, self.step)
            began = time.perf_counter()
            lr = learning_rate(self.step, float(t["optimizer"]["lr"]), t["schedule"], t["max_iters"])
            loss, aux_loss, stop = self.train_step(lr)
            if not math.isfinite(loss):
                self.metric({"type": "nan", "step": self.step, "loss": js_number(loss)})
                emit(r, "nan", step=self.step, loss=js_number(loss))
                if t["on_nan"] == "stop":
                    raise self.nan_stop(loss)
                self.step += 1
                if stop:
                    status = "interrupted"
                    break
                continue
            losses.append(loss)
            self.step += 1
            seconds = time.perf_counter() - began
            if len(losses) > 1:  # the first step warms up allocators and kernels; leave it out of the rate
                train_seconds += seconds
                timed += 1
            tps = tokens_per_step * timed / train_seconds if timed else tokens_per_step / seconds
            if self.step % log_every == 0:
                # The cross-entropy as loss; what the layers added to it (the experts' load balancing) apart.
                aux = {} if aux_loss is None else {"aux_loss": aux_loss}
                self.metric({"type": "train", "step": self.step, "loss": loss, **aux, "lr": lr, "ms_per_iter": seconds * 1000, "tokens_per_sec": tps})
            emit(r, "step", step=self.step, max=t["max_iters"], loss=loss, lr=lr, ms=seconds * 1000, tps=tps)
            if t["checkpoint_interval"] > 0 and self.step % t["checkpoint_interval"] == 0:
                self.checkpoint()
                self.saved_step = self.step
            if stop:
                status = "interrupted"
                break
        if status == "done" and (self.last_eval is None or self.last_eval["step"] != self.step):
            self.evaluate()
        self.checkpoint()
        exact = self.exact_val_loss() if status == "done" and self.job.get("exact_eval", True) else None
        if exact:
            self.metric({"type": "exact", "step": self.step, "split": "val", "val_loss": finite_or_none(exact["loss"]), "tokens": exact["tokens"], "engine": "torch"})
        ms = train_seconds / timed * 1000 if timed else None
        if exact:
            exact = {"loss": finite_or_none(exact["loss"]), "tokens": exact["tokens"]}
        emit(r, "done", every_node=True, status=status, step=self.step, ms_per_iter=ms, tokens_per_sec=tokens_per_step / (ms / 1000) if ms else None, exact=exact)


@record
def main(argv: List[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: train.py RUN/torch/job.json (written by `babygpt train --engine torch`)")
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    trainer: Optional[Trainer] = None
    code = 0
    try:
        trainer = Trainer(job)
        trainer.run()
        trainer.ranks.finish()
    except (JobError, CheckpointWriteError) as e:
        if local_rank == 0:  # every rank raises it alike; each machine's launcher says it
            sys.stdout.write(EVENT_PREFIX + json.dumps({"event": "error", "message": str(e)}) + "\n")
        code = EXIT_USER_ERROR
    # Everything is written and synced (rank 0's checkpoint, metrics, events). Leave without running
    # destructors: gloo's process group can wait forever in its destructor for a peer that has already
    # exited (seen with PyTorch 1.13 across two torchrun agents), which would hold the whole job.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])

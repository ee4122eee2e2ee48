// The prepare workers (runtime/data/prepare-worker.ts), one per core: pieces go out as they are read, a few
// per worker in flight (so reading stays ahead of encoding, and memory stays bounded), and their results
// come back to the caller in the pieces' order, whatever order the workers finish them in.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { UserError } from "../errors.js";
import type { Piece, PieceResult, WorkerJob, WorkerReply, WorkerRequest } from "./prepare-worker.js";

const ENTRY = new URL("./prepare-worker.mjs", import.meta.url);
/** Pieces in flight per worker. */
const AHEAD = 2;

export const defaultWorkers = (): number => Math.max(1, availableParallelism());

export class WorkerPool {
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #done = new Map<number, PieceResult>();

  constructor(size: number, job: WorkerJob) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(ENTRY);
      w.on("message", (m: WorkerReply) => {
        if (m.type !== "result") return;
        this.#done.set(m.result.id, m.result);
        this.#idle.push(w);
        this.#wake?.();
      });
      w.on("error", (e) => {
        this.#failure ??= e;
        this.#wake?.();
      });
      w.on("exit", (code) => {
        if (code !== 0) this.#failure ??= new Error(`a prepare worker exited with code ${code}`);
        this.#wake?.();
      });
      w.postMessage({ type: "init", job } satisfies WorkerRequest);
      for (let k = 0; k < AHEAD; k++) this.#idle.push(w);
      this.#workers.push(w);
    }
  }

  #wait(): Promise<void> {
    return new Promise((r) => (this.#wake = r));
  }

  /**
   * Runs every piece; `onResult` sees each result in piece order (the piece's own fields beside it). A
   * piece's located error (bad UTF-8, a bad JSON line) rejects with it as a UserError.
   */
  async run<T extends { piece: Piece }>(items: AsyncIterable<T>, onResult: (result: PieceResult & { error?: undefined }, item: T) => void): Promise<void> {
    const pending = new Map<number, T>();
    let next: number | undefined;
    const deliver = (): void => {
      for (;;) {
        if (next === undefined) {
          const first = pending.size > 0 ? Math.min(...pending.keys()) : undefined;
          if (first === undefined) return;
          next = first;
        }
        const r = this.#done.get(next);
        if (!r) return;
        this.#done.delete(next);
        const item = pending.get(next)!;
        pending.delete(next);
        if ("error" in r && r.error !== undefined) throw new UserError(r.error);
        onResult(r as PieceResult & { error?: undefined }, item);
        next = pending.size > 0 ? next + 1 : undefined;
      }
    };
    for await (const item of items) {
      while (this.#idle.length === 0) {
        if (this.#failure) throw this.#failure;
        await this.#wait();
        deliver();
      }
      if (this.#failure) throw this.#failure;
      const w = this.#idle.shift()!;
      pending.set(item.piece.id, item);
      w.postMessage({ type: "piece", piece: item.piece } satisfies WorkerRequest, [item.piece.bytes.buffer as ArrayBuffer]);
      deliver();
    }
    while (pending.size > 0) {
      if (this.#failure) throw this.#failure;
      deliver();
      if (pending.size > 0) await this.#wait();
    }
  }

  /** The char job's code points, from every worker. */
  async codePoints(): Promise<number[]> {
    const all = await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<number[]>((resolve) => {
            const on = (m: WorkerReply): void => {
              if (m.type !== "chars") return;
              w.off("message", on);
              resolve(m.codePoints);
            };
            w.on("message", on);
            w.postMessage({ type: "flush" } satisfies WorkerRequest);
          }),
      ),
    );
    return [...new Set(all.flat())].sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

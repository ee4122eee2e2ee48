// Learning a byte-level BPE: the training text is cut into chunks by GPT-2's pre-tokenizer and the chunks
// counted (in the prepare workers, runtime/data/prepare-worker.ts); here the counts become merges, the
// classic way: start from bytes, join the most frequent adjacent pair everywhere, repeat. Pair counts are
// kept up to date incrementally (only the chunks that hold the merged pair are looked at again), and the
// next pair comes from a max-heap, so each merge costs what it changes, not the whole vocabulary.
// Ties go to the smaller pair of ids, so the same counts always give the same merges.

/** Distinct chunks kept while counting: past it, the rarest are dropped (see ChunkCounts.add). */
export const MAX_CHUNKS = 2_000_000;

/**
 * Chunk counts gathered from the workers' batches in a fixed order, so that the dropping of rare chunks
 * (which bounds memory on a corpus with millions of distinct chunks: URLs, numbers, typos) happens at the
 * same points for the same corpus, and the same corpus always learns the same merges.
 */
export class ChunkCounts {
  readonly counts = new Map<string, number>();
  /** Chunks seen fewer times than this were dropped (1: none). */
  floor = 1;

  add(chunks: readonly string[], counts: ArrayLike<number>): void {
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      this.counts.set(c, (this.counts.get(c) ?? 0) + counts[i]!);
    }
    while (this.counts.size > MAX_CHUNKS) {
      this.floor *= 2;
      for (const [c, n] of this.counts) if (n < this.floor) this.counts.delete(c);
    }
  }
}

const KEY = 2 ** 21; // ids stay below 2^21: a pair is one number, a * KEY + b
const pairKey = (a: number, b: number): number => a * KEY + b;

/** A max-heap of [count, pair] by count, then the smaller pair first; stale entries are skipped when popped. */
class PairHeap {
  readonly #counts: number[] = [];
  readonly #keys: number[] = [];

  get size(): number {
    return this.#counts.length;
  }

  #above(i: number, j: number): boolean {
    const ci = this.#counts[i]!;
    const cj = this.#counts[j]!;
    return ci > cj || (ci === cj && this.#keys[i]! < this.#keys[j]!);
  }

  #swap(i: number, j: number): void {
    [this.#counts[i], this.#counts[j]] = [this.#counts[j]!, this.#counts[i]!];
    [this.#keys[i], this.#keys[j]] = [this.#keys[j]!, this.#keys[i]!];
  }

  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    for (let i = this.#counts.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.#above(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.#counts[0]!, this.#keys[0]!];
    const lastCount = this.#counts.pop()!;
    const lastKey = this.#keys.pop()!;
    if (this.#counts.length > 0) {
      this.#counts[0] = lastCount;
      this.#keys[0] = lastKey;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.#counts.length && this.#above(l, best)) best = l;
        if (r < this.#counts.length && this.#above(r, best)) best = r;
        if (best === i) break;
        this.#swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/**
 * Up to `count` merges learned from chunk counts, flattened ([a0, b0, a1, b1, …]: merge i makes id 256 + i).
 * Fewer when the chunks run out of pairs (every chunk a single token).
 */
export function learnMerges(chunks: ReadonlyMap<string, number>, count: number, onProgress?: (done: number) => void): number[] {
  const utf8 = new TextEncoder();
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [chunk, n] of chunks) {
    const bytes = utf8.encode(chunk);
    if (bytes.length < 2) continue; // nothing to merge in a single byte
    words.push(Array.from(bytes));
    freq.push(n);
  }
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, touched: Set<number>): void => {
    const s = words[w]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i]!, s[i + 1]!);
      pairCount.set(k, (pairCount.get(k) ?? 0) + sign * freq[w]!);
      touched.add(k);
      if (sign > 0) {
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };
  const heap = new PairHeap();
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  for (const k of initial) heap.push(pairCount.get(k)!, k);

  const merges: number[] = [];
  while (merges.length / 2 < count && heap.size > 0) {
    const [n, k] = heap.pop();
    if (n <= 0 || pairCount.get(k) !== n) continue; // stale: the pair's count changed since this entry
    const a = Math.floor(k / KEY);
    const b = k % KEY;
    const id = 256 + merges.length / 2;
    merges.push(a, b);
    const touched = new Set<number>();
    for (const w of where.get(k) ?? []) {
      const s = words[w]!;
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) found = true;
      if (!found) continue; // a chunk that held the pair before an earlier merge took it apart
      addPairs(w, -1, touched);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          next.push(id);
          i++;
        } else next.push(s[i]!);
      }
      words[w] = next;
      addPairs(w, 1, touched);
    }
    where.delete(k);
    for (const t of touched) {
      const c = pairCount.get(t)!;
      if (c > 0) heap.push(c, t);
      else pairCount.delete(t);
    }
    onProgress?.(merges.length / 2);
  }
  return merges;
}

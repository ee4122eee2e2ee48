// The KV cache of sampling: each attention layer's keys and values of the positions fed so far, so the
// next token's forward computes its own query, key and value alone instead of the whole context again.
// Keys and values are (B, kv heads, T, hs), or (B, T, hs) for a single head; a grouped-query layer caches
// its kv heads only. Rotary layers cache keys already rotated, so positions stay right as it grows. A
// layer applied several times (a repeat with shared weights) keeps an entry per application: its forward
// gets the cache's view for that application.
import { tf } from "./tf.js";

/** The last n entries of t along an axis, as a tensor of its own. */
function lastAlong<T extends tf.Tensor>(t: T, axis: number, n: number): T {
  const begin = t.shape.map((_, i) => (i === axis ? t.shape[axis]! - n : 0));
  const size = t.shape.map((d, i) => (i === axis ? n : d));
  return tf.slice(t, begin, size) as T;
}

interface Entry {
  readonly k: tf.Tensor;
  readonly v: tf.Tensor;
}

/** What the views of one cache share: the entries, by layer and application, and the positions fed. */
export interface KvCacheState {
  readonly entries: Map<object, Map<number, Entry>>;
  past: number;
}

export class KvCache {
  readonly #shared: KvCacheState;
  readonly #application: number;

  /** A new, empty cache; or (for application()) a view of another's state. */
  constructor(shared?: KvCacheState, application = 0) {
    this.#shared = shared ?? { entries: new Map(), past: 0 };
    this.#application = application;
  }

  /** Positions the cache holds: the position of the first token of the next forward. */
  get past(): number {
    return this.#shared.past;
  }

  /** The view of this cache for the i-th application of a layer whose weights are shared. */
  application(i: number): KvCache {
    return new KvCache(this.#shared, i);
  }

  /**
   * Appends one layer's keys and values of the positions being fed (its T axis is the second to last) and
   * returns those of every position so far. `layer` identifies the layer (the module itself). A layer
   * with a sliding window of W positions reads no key more than W − 1 back: the cache keeps only the last
   * W − 1, which with the next token's own are all it reads.
   */
  append<T extends tf.Tensor>(layer: object, k: T, v: T, window = 0): { k: T; v: T } {
    const axis = k.rank - 2;
    let byApplication = this.#shared.entries.get(layer);
    if (!byApplication) this.#shared.entries.set(layer, (byApplication = new Map()));
    const old = byApplication.get(this.#application);
    const all = old ? { k: tf.concat([old.k as T, k], axis), v: tf.concat([old.v as T, v], axis) } : { k, v };
    const T = all.k.shape[axis]!;
    const keep = window > 0 ? Math.min(window - 1, T) : T;
    const kept = keep === T && old ? all : { k: lastAlong(all.k, axis, keep), v: lastAlong(all.v, axis, keep) };
    // Kept past the forward's tf.tidy; the previous pair goes.
    tf.keep(kept.k);
    tf.keep(kept.v);
    if (old) tf.dispose([old.k, old.v]);
    byApplication.set(this.#application, kept);
    return all;
  }

  /** Called after each forward with the number of positions it fed. */
  advance(positions: number): void {
    this.#shared.past += positions;
  }

  /** Empties the cache (when the context slides past block_size and must be fed again). */
  clear(): void {
    for (const byApplication of this.#shared.entries.values()) for (const { k, v } of byApplication.values()) tf.dispose([k, v]);
    this.#shared.entries.clear();
    this.#shared.past = 0;
  }

  dispose(): void {
    this.clear();
  }
}

// A small seeded PRNG of our own (xoshiro128**, seeded through splitmix32): batches, initialization and
// dropout seeds all come from it, and its state is four integers that checkpoints store, so a resumed run
// draws exactly what an uninterrupted one would.

export type PrngState = readonly [number, number, number, number];

export class Prng {
  #s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  static fromState(state: PrngState): Prng {
    const p = new Prng(0);
    p.state = state;
    return p;
  }

  get state(): PrngState {
    const s = this.#s;
    return [s[0]!, s[1]!, s[2]!, s[3]!];
  }

  set state(state: PrngState) {
    this.#s.set(state);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** Standard normal, by Box–Muller (one draw per call keeps the state simple to save). */
  nextNormal(): number {
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills `out` with nextNormal() · scale per value, in order: one loop over the tensor, not a call per
   * value through a closure (a model's initialization draws millions of values).
   */
  fillNormal(out: Float32Array, scale: number): void {
    for (let i = 0; i < out.length; i++) out[i] = this.nextNormal() * scale;
  }

  /** Fills `out` with (nextFloat() · 2 − 1) · bound per value, in order. */
  fillUniform(out: Float32Array, bound: number): void {
    for (let i = 0; i < out.length; i++) out[i] = (this.nextFloat() * 2 - 1) * bound;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

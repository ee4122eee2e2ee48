// Option parsers that reject bad numbers with the flag's name, instead of passing NaN along.
import { InvalidArgumentError } from "commander";

export function parseIntOption(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} needs a whole number, got "${value}"`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}, got ${n}`);
    if (n > max) throw new InvalidArgumentError(`${flag} must be at most ${max}, got ${value.trim()}`);
    return n;
  };
}

/** A number in [min, max]; `above` makes min exclusive (a scale of 0 is no scale). */
export function parseFloatOption(flag: string, min = -Infinity, options: { readonly max?: number; readonly above?: boolean } = {}): (value: string) => number {
  const max = options.max ?? Infinity;
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} needs a number, got "${value}"`);
    if (options.above ? n <= min : n < min) throw new InvalidArgumentError(`${flag} must be ${options.above ? "more than" : "at least"} ${min}, got ${n}`);
    if (n > max) throw new InvalidArgumentError(`${flag} must be at most ${max}, got ${value.trim()}`);
    return n;
  };
}

/** Seeds are 32-bit: a larger one would wrap around to another seed's stream. */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * A flag given once per value (`--set a=1 --set b=2`). One value per flag, not a variadic list: a
 * variadic `--set` swallowed the spec path that followed it (`train --set a=1 spec.yaml`).
 */
export function repeatable(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/** The help line for --set, the same for every command that takes it. */
export const SET_HELP = "override a spec field, e.g. --set training.optimizer.lr=3e-4 (repeat for more)";

// Option parsers that reject bad numbers with the flag's name, instead of passing NaN along.
import { InvalidArgumentError } from "commander";

export function parseIntOption(flag: string, min = 0): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${flag} needs a whole number, got "${value}"`);
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}, got ${n}`);
    return n;
  };
}

export function parseFloatOption(flag: string, min = -Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${flag} needs a number, got "${value}"`);
    if (n < min) throw new InvalidArgumentError(`${flag} must be at least ${min}, got ${n}`);
    return n;
  };
}

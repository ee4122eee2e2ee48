// The data step of a cache hit, timed inside one process (`node --import tsx bench/data-hit.ts CORPUS
// TOKENIZER`, run by bench/data.ts with its token cache): what a training spends before its first step to
// find its corpus's tokens (a stat per file, the entry's manifest, the token files opened), without
// Node's start. Prints the milliseconds.
import { prepareData } from "../runtime/data/prepare.js";

const [corpus, tokenizer] = process.argv.slice(2);
const learn = tokenizer === "char" || tokenizer === "gpt2" ? tokenizer : { type: "bpe" as const, vocab_size: Number(/^bpe:(\d+)$/.exec(tokenizer ?? "")?.[1]) };
const started = performance.now();
const prepared = await prepareData({ data: corpus, tokenizer: { learn, compact: false }, valFraction: 0.1 });
const ms = performance.now() - started;
if (!prepared.hit) throw new Error(`${corpus} was not in the token cache`);
console.log(`@hit ${ms.toFixed(1)}`);

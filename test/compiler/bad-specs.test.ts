// Bad specs: each gets one located error (file:line:col: message, the line, a caret) and nothing else.
import { describe, expect, it } from "vitest";
import { formatWarning } from "../../compiler/diagnostics/diagnostic.js";
import { namedParams, summaryRows } from "../../compiler/ir/analysis.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { diagnosticsOf, tempFiles } from "../helpers/project.js";

const GOOD_LAYERS = `  layers:
    - kind: token_embedding
    - kind: position_embedding
    - kind: multi_head_attention
      heads: 4
    - kind: linear
      out: vocab
`;
const HEAD = "name: t\nmodel:\n  block_size: 8\n  n_embd: 32\n";

interface Case {
  readonly name: string;
  readonly files: Record<string, string>;
  readonly sets?: readonly string[];
  /** The first line of the diagnostic: location and message. */
  readonly want: string;
}

const cases: Case[] = [
  { name: "YAML syntax error", files: { "a.yaml": "name: t\nmodel: {block_size: 8\n" }, want: "a.yaml:3:1: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }" },
  { name: "duplicate key", files: { "a.yaml": "name: t\nname: u\nmodel:\n  block_size: 8\n" }, want: "a.yaml:2:1: YAML syntax error: Map keys must be unique" },
  { name: "not a mapping", files: { "a.yaml": "- just\n- a list\n" }, want: "a.yaml:1:1: a spec must be a YAML mapping (name:, model:, …)" },
  { name: "misspelled required key", files: { "a.yaml": `name: t\nmodle:\n  block_size: 8\n` }, want: 'a.yaml:2:1: unknown key "modle" in the spec; did you mean "model"?' },
  { name: "unknown key with a suggestion", files: { "a.yaml": `${HEAD}${GOOD_LAYERS}trainig:\n  batch_size: 4\n` }, want: 'a.yaml:12:1: unknown key "trainig" in the spec; did you mean "training"?' },
  {
    name: "unknown layer kind",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: atention_head\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:7:13: unknown layer kind "atention_head"; did you mean "attention_head"? (the kinds: add, attention_head, block, dropout, feed_forward, layer_norm, linear, multi_head_attention, parallel, position_embedding, repeat, residual, rms_norm, save, token_embedding)',
  },
  {
    name: "unknown layer key",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: linear\n      out: vocab\n      bais: false\n` },
    want: 'a.yaml:9:7: unknown key "bais" in linear layer; did you mean "bias"?',
  },
  { name: "wrong type", files: { "a.yaml": `name: t\nmodel:\n  block_size: eight\n${GOOD_LAYERS}` }, want: 'a.yaml:3:15: "block_size" must be an integer; got "eight"' },
  { name: "size not positive", files: { "a.yaml": `name: t\nmodel:\n  block_size: 8\n  n_embd: 0\n${GOOD_LAYERS}` }, want: 'a.yaml:4:11: "n_embd" must be >= 1; got 0' },
  {
    name: "dropout out of [0, 1)",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: dropout\n      rate: 1\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:8:13: "rate" must be in [0, 1); got 1',
  },
  { name: "a learned tokenizer without its size", files: { "a.yaml": `${HEAD}${GOOD_LAYERS}data:\n  tokenizer:\n    type: bpe\n` }, want: 'a.yaml:14:5: "tokenizer" is missing "vocab_size"' },
  { name: "a learned tokenizer too small for its bytes", files: { "a.yaml": `${HEAD}${GOOD_LAYERS}data:\n  tokenizer: { type: bpe, vocab_size: 256 }\n` }, want: 'a.yaml:13:39: "vocab_size" must be >= 258; got 256' },
  { name: "enum value", files: { "a.yaml": `${HEAD}${GOOD_LAYERS}data:\n  tokenizer: chars\n` }, want: 'a.yaml:13:14: "tokenizer" must be one of char, gpt2; got "chars"; did you mean "char"?' },
  {
    name: "missing required layer key",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:7:7: multi_head_attention layer is missing "heads"',
  },
  { name: "empty layer list", files: { "a.yaml": `${HEAD}  layers: []\n` }, want: 'a.yaml:5:11: "layers" must have at least 1 item' },
  {
    name: "n_embd not divisible by heads",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 5\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:14: input width 32 is not divisible by 5 heads; choose heads that divide it or set head_size",
  },
  {
    name: "residual body changes width",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: residual\n      body:\n        - kind: attention_head\n          head_size: 16\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:7: the residual body turns width 32 into 16, but x + body(x) needs the width kept",
  },
  {
    name: "repeat body changes width",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: repeat\n      times: 2\n      body:\n        - kind: linear\n          out: 64\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:9:7: the repeated body turns width 32 into 64, so copies of it cannot be stacked",
  },
  {
    name: "output not vocab-wide",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: linear\n      out: 16\n` },
    want: "a.yaml:7:7: the model must end in vocab-wide logits (B, T, vocab), but its last layer outputs (B, T, 16); end with a linear layer with out: vocab",
  },
  {
    name: "layer before the embedding",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: layer_norm\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:6:13: layer_norm needs activations (B, T, C), but its input here is token indices (B, T); start the model with a token_embedding",
  },
  {
    name: "second token embedding",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: token_embedding\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:7:13: token_embedding takes token indices (B, T), but its input here is already (B, T, 32); only the first layer can embed tokens",
  },
  {
    name: "embedding without a width",
    files: { "a.yaml": "name: t\nmodel:\n  block_size: 8\n  layers:\n    - kind: token_embedding\n    - kind: linear\n      out: vocab\n" },
    want: "a.yaml:5:13: token_embedding needs a dim, or model.n_embd to default to",
  },
  {
    name: "duplicate layer names",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: layer_norm\n      name: norm\n    - kind: layer_norm\n      name: norm\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:10:13: another layer in this scope is already named "norm" (line 7)',
  },
  {
    name: "hidden and multiplier both given",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      hidden: 64\n      multiplier: 4\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:9:19: give hidden or multiplier, not both",
  },
  {
    name: "kv_heads that does not divide heads",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 4\n      kv_heads: 3\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:9:17: kv_heads 3 does not divide heads 4: each key/value head must serve the same number of query heads",
  },
  {
    name: "rope with an odd head size",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 1\n      head_size: 7\n      projection: true\n      rope: true\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:11:13: rope rotates pairs of dimensions, but the head size 7 is odd; choose an even number of dimensions to rotate",
  },
  {
    name: "rope fraction that leaves an odd number of dimensions",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 4\n      rope: { fraction: 0.3 }\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:9:7: rope rotates pairs of dimensions, but the fraction 0.3 of head size 8 is 2.4, not an even whole number; choose an even number of dimensions to rotate",
  },
  {
    name: "tie_embeddings when the widths differ",
    files: { "a.yaml": `${HEAD}  tie_embeddings: true\n  layers:\n    - kind: token_embedding\n    - kind: linear\n      out: 16\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:5:19: tie_embeddings shares the token table (vocab, 32) with the output layer, but that layer reads width 16; the widths must be equal",
  },
  {
    name: "tie_embeddings without a token table",
    files: { "a.yaml": `${HEAD}  tie_embeddings: true\n  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n    - kind: linear\n      out: vocab\n    - kind: rms_norm\n` },
    want: "a.yaml:5:19: tie_embeddings needs a model that starts with a token_embedding and ends with a linear of out: vocab",
  },
  {
    name: "top_k more than experts",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      experts: 4\n      top_k: 5\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:9:14: top_k 5, more than the 4 experts there are; set top_k to at most 4",
  },
  {
    name: "one expert with top_k's default of 2",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      experts: 1\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:16: top_k defaults to 2, more than the 1 expert there are; set top_k to at most 1",
  },
  {
    name: "top_k without experts",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      top_k: 2\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:14: top_k chooses among experts; set experts too, or remove top_k",
  },
  {
    name: "aux_loss without experts",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      aux_loss: 0.01\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:17: aux_loss balances the load of experts; set experts too, or remove aux_loss",
  },
  {
    name: "a layer named aux_losses, where generated PyTorch layers keep their load-balancing losses",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: layer_norm\n      name: aux_losses\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:8:13: "aux_losses" is where a generated PyTorch layer keeps its auxiliary losses; choose another name',
  },
  {
    name: "top_k of 0",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      experts: 4\n      top_k: 0\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:9:14: "top_k" must be >= 1; got 0',
  },
  {
    name: "a negative aux_loss",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      experts: 4\n      aux_loss: -0.1\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:9:17: "aux_loss" must be >= 0; got -0.1',
  },
  {
    name: "gated with relu2",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: feed_forward\n      activation: relu2\n      gated: true\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:9:14: a gated MLP with relu2 is no known variant; gate with silu (SwiGLU) or gelu (GeGLU), or set gated: false",
  },
  {
    name: "qk_norm that is no norm",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 4\n      qk_norm: batch_norm\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:9:16: "qk_norm" must be one of false, rms_norm, layer_norm; got "batch_norm"; did you mean "layer_norm"?',
  },
  {
    name: "rope with an unknown key",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 4\n      rope: { bass: 500 }\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:9:15: unknown key "bass" in "rope"; did you mean "base"?',
  },
  {
    name: "extends cycle",
    files: { "a.yaml": "extends: b.yaml\nname: a\n", "b.yaml": "extends: a.yaml\nname: b\n" },
    want: "b.yaml:1:10: extends cycle: a.yaml → b.yaml → a.yaml",
  },
  { name: "extends a missing file", files: { "a.yaml": "extends: nope.yaml\nname: a\n" }, want: "a.yaml:1:10: extends a spec that does not exist: nope.yaml" },
  {
    name: "error inherited from the parent points into the parent",
    files: { "base.yaml": `name: base\nmodel:\n  block_size: 8\n  n_embd: 32\n  layers:\n    - kind: token_embedding\n    - kind: linear\n      out: 16\n`, "a.yaml": "extends: base.yaml\nname: a\n" },
    want: "base.yaml:7:7: the model must end in vocab-wide logits (B, T, vocab), but its last layer outputs (B, T, 16); end with a linear layer with out: vocab",
  },
  { name: "--set on a field that does not exist", files: { "a.yaml": `${HEAD}${GOOD_LAYERS}` }, sets: ["training.optimiser.lr=0.1"], want: '--set training.optimiser.lr=0.1: unknown key "optimiser" in "training"; did you mean "optimizer"?' },
  { name: "--set with a wrong type", files: { "a.yaml": `${HEAD}${GOOD_LAYERS}` }, sets: ["training.batch_size=big"], want: '--set training.batch_size=big: "batch_size" must be an integer; got "big"' },
  {
    name: "an add with no save before it",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: add\n      from: enc\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:13: no save with as: enc comes before this add in its layer list or the lists around it",
  },
  {
    name: "a label saved twice",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: save\n      as: 1\n    - kind: residual\n      body:\n        - kind: save\n          as: 1\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:12:15: the label 1 is already saved at line 7; a label is saved once in reach of its adds: choose another",
  },
  {
    name: "an add of another width",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: save\n      as: 1\n    - kind: linear\n      out: 16\n    - kind: add\n      from: 1\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:12:13: the stream saved as 1 is 32 wide, but here it is 16: an add needs the same width",
  },
  {
    name: "an add in a block reading a label saved outside it",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: save\n      as: 1\n    - kind: block\n      body:\n        - kind: add\n          from: 1\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:12:17: the label 1 is saved at line 7 outside this block or repeat's body, which is a class of its own and cannot read it; save it inside the body, or write the blocks out one by one",
  },
  {
    name: "parallel branches of different widths",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: parallel\n      branches:\n        - - kind: linear\n            out: 16\n        - - kind: layer_norm\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:8:7: branch 1 ends at width 16 and branch 2 at 32; the branches are summed, so they must end at the same width",
  },
  {
    name: "the same layer name in two parallel branches",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: parallel\n      branches:\n        - - kind: layer_norm\n            name: n\n        - - kind: rms_norm\n            name: n\n    - kind: linear\n      out: vocab\n` },
    want: 'a.yaml:12:19: another layer in this scope is already named "n" (line 9)',
  },
  {
    name: "zero_init on attention without a projection",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: multi_head_attention\n      heads: 4\n      projection: false\n      zero_init: true\n    - kind: linear\n      out: vocab\n` },
    want: "a.yaml:10:18: zero_init starts the output projection at zero, but this layer has none (projection: false)",
  },
  {
    name: "an unknown kind among defined ones",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: my_blok\n    - kind: linear\n      out: vocab\ndefine:\n  my_block:\n    - kind: layer_norm\n` },
    want: 'a.yaml:7:13: unknown layer kind "my_blok"; did you mean "my_block"? (the kinds: add, attention_head, block, dropout, feed_forward, layer_norm, linear, multi_head_attention, parallel, position_embedding, repeat, residual, rms_norm, save, token_embedding; defined here: my_block)',
  },
  {
    name: "a definition named as a built-in kind",
    files: { "a.yaml": `${HEAD}${GOOD_LAYERS}define:\n  residual:\n    - kind: layer_norm\n` },
    want: 'a.yaml:13:3: "residual" is a built-in kind; a definition needs a name of its own',
  },
  {
    name: "definitions that use each other in a cycle",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: a\n    - kind: linear\n      out: vocab\ndefine:\n  a:\n    - kind: b\n  b:\n    - kind: a\n` },
    want: "a.yaml:11:3: define cycle: a → b → a",
  },
  {
    name: "a key on the use of a defined kind",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: mine\n      heads: 4\n    - kind: linear\n      out: vocab\ndefine:\n  mine:\n    - kind: layer_norm\n` },
    want: 'a.yaml:8:7: a defined kind (mine) takes a name and nothing else; put "heads" in its definition',
  },
  {
    name: "an error inside a definition, located there and at the use",
    files: { "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: mine\n    - kind: linear\n      out: vocab\ndefine:\n  mine:\n    - kind: multi_head_attention\n      heads: 5\n` },
    want: "a.yaml:13:14: input width 32 is not divisible by 5 heads; choose heads that divide it or set head_size (in mine, used at a.yaml:7:13)",
  },
];

describe("bad specs give one located error", () => {
  it.each(cases)("$name", ({ files, sets, want }) => {
    const dir = tempFiles(files);
    const lines = diagnosticsOf(() => lowerSpec(loadSpec("a.yaml", { cwd: dir, sets: sets ?? [] })));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.split("\n")[0]).toBe(want);
  });

  it("prints the offending line with a caret under the column", () => {
    const dir = tempFiles({ "a.yaml": `name: t\nmodel:\n  block_size: eight\n${GOOD_LAYERS}` });
    const [text] = diagnosticsOf(() => loadSpec("a.yaml", { cwd: dir }));
    expect(text!.split("\n")).toEqual(['a.yaml:3:15: "block_size" must be an integer; got "eight"', "    block_size: eight", "                ^"]);
  });

  it("reports every schema error of a file, in file order", () => {
    const dir = tempFiles({ "a.yaml": `name: t\nmodel:\n  block_size: 0\n  n_embd: -1\n${GOOD_LAYERS}` });
    const lines = diagnosticsOf(() => loadSpec("a.yaml", { cwd: dir })).map((l) => l.split("\n")[0]);
    expect(lines).toEqual(['a.yaml:3:15: "block_size" must be >= 1; got 0', 'a.yaml:4:11: "n_embd" must be >= 1; got -1']);
  });
});

describe("specs that train badly by construction warn, located, and still compile", () => {
  it.each([
    ["tied embeddings under init: torch", "  tie_embeddings: true\n", "a.yaml:5:19: warning: tie_embeddings under init: torch"],
  ])("%s", (_name, extra, want) => {
    const dir = tempFiles({ "a.yaml": `${HEAD}${extra}  layers:\n    - kind: token_embedding\n    - kind: linear\n      out: vocab\n      bias: false\n` });
    const ir = lowerSpec(loadSpec("a.yaml", { cwd: dir }));
    expect(ir.warnings.map((w) => formatWarning(w).split("\n")[0]!.slice(0, want.length))).toEqual([want]);
    const quiet = lowerSpec(loadSpec("a.yaml", { cwd: dir, sets: ["model.init=gpt"] }));
    expect(quiet.warnings).toEqual([]);
  });
});

describe("defined kinds", () => {
  it("insert their layers as a block named after them, which inspect names by the kind", () => {
    const dir = tempFiles({
      "a.yaml": `${HEAD}  layers:\n    - kind: token_embedding\n    - kind: pre_norm_mlp\n    - kind: pre_norm_mlp\n      name: second\n    - kind: linear\n      out: vocab\ndefine:\n  pre_norm_mlp:\n    - kind: residual\n      body:\n        - kind: layer_norm\n        - kind: feed_forward\n`,
    });
    const ir = lowerSpec(loadSpec("a.yaml", { cwd: dir }));
    expect(namedParams(ir).map((p) => p.name).filter((n) => n.endsWith("fc.weight"))).toEqual(["pre_norm_mlp.ffwd.fc.weight", "second.ffwd.fc.weight"]);
    expect(summaryRows(ir, 65).filter((r) => r.depth === 0).map((r) => `${r.path}:${r.kind}`)).toEqual([
      "token_embedding:token_embedding",
      "pre_norm_mlp:pre_norm_mlp (defined)",
      "second:pre_norm_mlp (defined)",
      "lm_head:linear",
    ]);
  });
});

// What the config fields that several kinds share are for (a kind's own fields are documented where its
// builder asks for them).
export const CONFIG_DOCS = {
  block_size: "Context length T: the most tokens the model looks back over.",
  n_embd: "Width C of the residual stream that every layer reads and writes.",
  dropout: "Dropout rate while training: the share of activations zeroed at random, so no unit can rely on any one other.",
} as const;

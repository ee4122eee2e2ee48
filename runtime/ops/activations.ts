// The feed-forward layer's activations beyond ReLU and GELU (gelu.ts), in plain tf ops: no backend has
// kernels for them yet, so each is its reference.
import * as tf from "@tensorflow/tfjs";

/** SiLU (swish): x · sigmoid(x), as PyTorch's F.silu; SwiGLU's gate. */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)) as T);
}

/** ReLU²: relu(x)², as modded-nanogpt and nanochat use. */
export function relu2<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.square(tf.relu(x)) as T);
}

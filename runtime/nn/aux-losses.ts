// The auxiliary losses of a model's forward: terms its layers add to the training loss beside the
// cross-entropy (a mixture of experts' load balancing). The model owns one collector and shares it with
// its layers, as it shares its dropout seeds; a layer adds its term during the forward (once per
// application: a layer applied twice adds two), and the model takes their sum at the end of it, which the
// trainer adds to the cross-entropy and records apart.
import { tf } from "./tf.js";

export class AuxLosses {
  #losses: tf.Scalar[] = [];

  /**
   * Records a layer's term. It is kept past the tf.tidy of the layer or block that made it (and stays on
   * any gradient tape recording the forward) until take() sums it.
   */
  add(loss: tf.Scalar): void {
    this.#losses.push(tf.keep(loss));
  }

  /** The sum of the terms recorded since the last take (undefined when none), each freed once summed. */
  take(): tf.Scalar | undefined {
    const losses = this.#losses;
    if (losses.length === 0) return undefined;
    this.#losses = [];
    const sum = losses.length === 1 ? tf.clone(losses[0]!) : (tf.addN(losses) as tf.Scalar);
    for (const l of losses) l.dispose();
    return sum;
  }
}

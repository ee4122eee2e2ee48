// A mixture of experts' routing and load-balancing loss (runtime/ops/routing.ts) against numbers worked
// out by hand, the tie rule (the lower expert index), the gradient paths (the router learns through the
// weights and the loss's probabilities; the choice passes none), and the margin the parity tests use to
// leave near-ties out.
import { describe, expect, it } from "vitest";
import { tf } from "../../runtime/nn/tf.js";
import { choiceMargins, loadBalancingLoss, recordRouting, topKRouting } from "../../runtime/ops/routing.js";

const close = (actual: ArrayLike<number>, expected: readonly number[], digits = 6): void => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]!, `element ${i}`).toBeCloseTo(e, digits));
};

describe("routing a mixture of experts", () => {
  it("chooses the k highest scores, best first, and renormalizes their probabilities", () => {
    // One token, scores ln(1), ln(2), ln(4), ln(3): softmax 0.1, 0.2, 0.4, 0.3.
    const scores = tf.tensor3d([Math.log(1), Math.log(2), Math.log(4), Math.log(3)], [1, 1, 4]);
    const [probs, weights, chosen] = topKRouting(scores, 2);
    close(probs.dataSync(), [0.1, 0.2, 0.4, 0.3]);
    expect(Array.from(chosen.dataSync())).toEqual([2, 3]);
    expect(chosen.dtype).toBe("int32");
    close(weights.dataSync(), [0.4 / 0.7, 0.3 / 0.7]);
    tf.dispose([scores, probs, weights, chosen]);
  });

  it("gives a tie to the lower expert index, wherever the tied experts stand", () => {
    const scores = tf.tensor3d([
      [
        [1, 2, 2, 0.5], // tie for first: 1 before 2
        [3, 1, 0, 1], // tie for second place: 1 before 3
        [0, 0, 0, 0], // all tied: 0, 1, 2
      ],
    ]);
    const [, weights, chosen] = topKRouting(scores, 2);
    expect(Array.from(chosen.dataSync())).toEqual([1, 2, 0, 1, 0, 1]);
    close(weights.dataSync().slice(0, 2), [0.5, 0.5]);
    const [, , three] = topKRouting(scores, 3);
    expect(Array.from(three.dataSync()).slice(6)).toEqual([0, 1, 2]);
    tf.dispose([scores, weights, chosen, three]);
  });

  it("refuses a k outside 1…E", () => {
    const scores = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    expect(() => topKRouting(scores, 0)).toThrow(/k must be an integer in \[1, 3\], got 0/);
    expect(() => topKRouting(scores, 4)).toThrow(/got 4/);
    scores.dispose();
  });

  it("the load-balancing loss is α·E·Σ fᵢ·Pᵢ, fᵢ over all k choices (a hand computation)", () => {
    // Two tokens, three experts, k = 2: token 0 chose 0 and 1, token 1 chose 0 and 2.
    // f = (2, 1, 1) / 4 = (0.5, 0.25, 0.25); P = mean of the rows = (0.45, 0.35, 0.2);
    // Σ f·P = 0.225 + 0.0875 + 0.05 = 0.3625; with α = 0.01 and E = 3: 0.010875.
    const probs = tf.tensor3d([0.5, 0.3, 0.2, 0.4, 0.4, 0.2], [1, 2, 3]);
    const chosen = tf.tensor3d([0, 1, 0, 2], [1, 2, 2], "int32");
    const loss = loadBalancingLoss(probs, chosen, 0.01);
    expect(loss.shape).toEqual([]);
    expect(loss.dataSync()[0]!).toBeCloseTo(0.010875, 8);
    // Uniform probabilities give α whatever the choice: E · Σ fᵢ / E = 1.
    const uniform = tf.fill([1, 2, 3], 1 / 3) as tf.Tensor3D;
    const flat = loadBalancingLoss(uniform, chosen, 0.5);
    expect(flat.dataSync()[0]!).toBeCloseTo(0.5, 6);
    tf.dispose([probs, chosen, loss, uniform, flat]);
  });

  it("the router's gradient comes through the weights and the loss's probabilities; the choice passes none", () => {
    const scores = tf.tensor3d([0.3, -0.2, 0.9, 0.1, 0.5, -0.4], [1, 2, 3]);
    const c = tf.tensor3d([2, -1, 0.5, 1], [1, 2, 2]); // what each chosen expert's output contributes
    // f(scores) = Σ weights · c + the load-balancing loss, whose gradient with respect to the scores
    // must match central differences (the choice is the same under the small steps).
    const f = (s: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const [probs, weights, chosen] = topKRouting(s as tf.Tensor3D, 2);
        return tf.add(tf.sum(tf.mul(weights, c)), loadBalancingLoss(probs, chosen, 0.3)) as tf.Scalar;
      });
    const grad = tf.grad(f)(scores).dataSync();
    const base = scores.dataSync();
    const h = 1e-2;
    const numeric = Array.from(base, (_, i) => {
      const at = (d: number): number => {
        const moved = Float32Array.from(base);
        moved[i]! += d;
        const t = tf.tensor3d(moved, [1, 2, 3]);
        const v = f(t).dataSync()[0]!;
        t.dispose();
        return v;
      };
      return (at(h) - at(-h)) / (2 * h);
    });
    close(grad, numeric, 3);
    expect(Math.max(...Array.from(grad, Math.abs))).toBeGreaterThan(0.01);
    tf.dispose([scores, c]);
  });

  it("records every routing while asked, and measures how near each token's choice is to a tie", () => {
    const scores = tf.tensor3d([0, 1, 1.00001, 5, 2, 1], [1, 2, 3]);
    const { result, routings } = recordRouting(() => topKRouting(scores, 1));
    expect(routings).toHaveLength(1);
    expect(Array.from(routings[0]!.chosen.dataSync())).toEqual([2, 0]);
    const margins = choiceMargins(routings[0]!.scores.dataSync() as Float32Array, 3, 1);
    expect(margins[0]!).toBeLessThan(1e-4);
    expect(margins[1]!).toBeCloseTo(3, 6);
    expect(choiceMargins(Float32Array.of(1, 2), 2, 2)[0]).toBe(Infinity);
    tf.dispose([scores, ...result, routings[0]!.scores, routings[0]!.chosen]);
    // Outside a recording nothing is kept.
    const before = tf.memory().numTensors;
    tf.dispose(topKRouting(tf.zeros([1, 1, 2]) as tf.Tensor3D, 1));
    expect(tf.memory().numTensors).toBe(before + 1); // the zeros made for the call
  });
});

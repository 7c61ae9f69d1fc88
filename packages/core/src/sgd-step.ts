import * as tf from '@tensorflow/tfjs';
import type { BatchSource, Trainable } from './contracts.js';
import { RandomStream } from './random.js';

/**
 * One plain SGD step of a Trainable on the first step of its batch source's first epoch (the sum
 * of its loss parts, at step 0 in training mode), then the batch is given back to the source. Not
 * a trainer: tests use it to move weights off their initial values (a save/load round trip that
 * must carry trained weights) with the contract types alone, whatever the model kind.
 * @example
 * sgdStep(run.trainable, run.trainSource(), { lr: 0.5 });
 */
export function sgdStep<B>(
  trainable: Trainable<B>,
  source: BatchSource<B>,
  options: { lr: number; seed?: number },
): void {
  const steps = source.epoch(0, new RandomStream(options.seed ?? 1))[Symbol.iterator]();
  const first = steps.next();
  steps.return?.(); // the rest of the epoch is not drawn; a generator's cleanup runs now
  if (first.done === true) return;
  const batch = first.value;
  const sgd = tf.train.sgd(options.lr);
  try {
    sgd.minimize(
      () =>
        tf.addN(
          Object.values(trainable.loss(batch, { step: 0, epoch: 0, seed: 0, training: true }).parts),
        ) as tf.Scalar,
      false,
      trainable.trainableVariables(),
    );
  } finally {
    sgd.dispose();
    source.dispose?.(batch);
  }
}

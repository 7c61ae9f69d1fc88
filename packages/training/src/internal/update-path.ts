import * as tf from '@tensorflow/tfjs';
import { clipByGlobalNorm, globalNorm } from '../clip.js';
import type { TrainerOptimizer } from '../optimizer.js';

/** A loss-level step's gradients after the backward pass, held where the optimizer's strategy wants them. */
export interface CollectedStep {
  /** The stats' values (then, on the tensor path, the norm) and the global gradient norm. */
  read(): { values: Float32Array; norm: number } | Promise<{ values: Float32Array; norm: number }>;
  /** A variable's gradient values (to name a non-finite one). */
  gradient(name: string): ArrayLike<number> | undefined;
  /** Clips by global norm (when `maxNorm` is set) and updates the variables. */
  apply(lr: number, maxNorm: number | undefined, norm: number): void;
  dispose(): void;
}

/**
 * Takes a step's gradients and its scalar stats inside the step's tidy, right after the backward
 * pass; what it returns outlives the tidy until `dispose`.
 */
export type CollectStep = (
  grads: tf.NamedTensorMap,
  stats: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
) => CollectedStep;

/**
 * The one place where the host and tensor update strategies differ for the Trainer. Host: the
 * gradients are read back and freed at once (on the backends that favour it a read is a copy, not
 * a stall, so each tensor is read as it is rather than packed by more ops), the norm is summed on
 * the host. Tensor: the gradients stay on the device and [stats, norm] is read back in one go.
 */
export function updatePath(optimizer: TrainerOptimizer): CollectStep {
  return optimizer.updates === 'host' ? hostPath(optimizer) : tensorPath(optimizer);
}

function hostPath(optimizer: TrainerOptimizer): CollectStep {
  return (grads, stats, variables) => {
    // Packed here, where no tape records the op (recorded, tf.stack clones every input); a few
    // scalars are read one by one, more in one read of their stack.
    const packed = stats.length <= 4 ? undefined : tf.keep(tf.stack(stats as tf.Tensor[]));
    const values = new Map<string, Float32Array>();
    for (const v of variables) {
      const g = grads[v.name];
      if (g != null) values.set(v.name, g.dataSync() as Float32Array);
    }
    return {
      read() {
        let read: Float32Array;
        if (packed !== undefined) read = packed.dataSync() as Float32Array;
        else {
          read = new Float32Array(stats.length);
          stats.forEach((t, i) => {
            read[i] = t.dataSync()[0]!;
          });
        }
        return { values: read, norm: Math.fround(Math.sqrt(optimizer.sumOfSquares(values.values()))) };
      },
      gradient: (name) => values.get(name),
      apply(lr, maxNorm, norm) {
        const scale = maxNorm !== undefined && norm > maxNorm ? maxNorm / norm : 1;
        optimizer.applyGradientValues(variables, values, lr, scale);
      },
      dispose: () => packed?.dispose(),
    };
  };
}

function tensorPath(optimizer: TrainerOptimizer): CollectStep {
  return (grads, stats, variables) => {
    const readback = tf.keep(tf.concat([tf.stack(stats as tf.Tensor[]), tf.reshape(globalNorm(grads), [1])]));
    for (const g of Object.values(grads)) tf.keep(g);
    return {
      async read() {
        const values = await readback.data<'float32'>();
        return { values, norm: values[values.length - 1]! };
      },
      gradient: (name) => grads[name]?.dataSync(),
      apply(lr, maxNorm, norm) {
        const applied = maxNorm !== undefined ? clipByGlobalNorm(grads, maxNorm, norm).grads : grads;
        try {
          optimizer.applyGradients(variables, applied, lr);
        } finally {
          if (applied !== grads) tf.dispose(applied);
        }
      },
      dispose() {
        tf.dispose(grads);
        readback.dispose();
      },
    };
  };
}

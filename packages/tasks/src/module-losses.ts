import { type LossOutput, MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

/**
 * Collects the losses modules add during one `loss()` call ({@link ModuleContext.addLoss}): a
 * name added twice (a shared module run for several tasks or batches) is summed. A model passes
 * {@link ModuleLosses.add} in the module context and spreads {@link ModuleLosses.output} into its
 * `LossOutput`.
 * @example
 * const losses = new ModuleLosses();
 * const out = module.apply([x], { training: true, seed: 0, addLoss: losses.add });
 * return { parts, ...losses.output() }; // terms: {'vq.commitment': ...}
 */
export class ModuleLosses {
  private readonly collected: Record<string, tf.Scalar> = {};

  /** The collector to pass as `ModuleContext.addLoss`. */
  readonly add = (name: string, loss: tf.Scalar): void => {
    if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
      throw new MtlError('SHAPE_MISMATCH', `an added loss must be a scalar tensor, got ${describe(loss)}`, {
        place: `module loss ${name}`,
      });
    }
    const previous = this.collected[name];
    this.collected[name] = previous === undefined ? loss : tf.add(previous, loss);
  };

  /** The collected losses by name (the tensors themselves; they live in the caller's scope). */
  get terms(): Record<string, tf.Scalar> {
    return { ...this.collected };
  }

  /**
   * `{terms}` for a `LossOutput` (nothing when no module added a loss), plus `extra`: `extra`
   * (if given) + Σ terms. The Trainer on this branch minimises `parts` and `extra` but not yet
   * `terms`, so their sum rides in `extra` to reach the objective's gradient.
   */
  output(extra?: tf.Scalar): Pick<LossOutput, 'terms' | 'extra'> {
    const values = Object.values(this.collected);
    if (values.length === 0) return extra === undefined ? {} : { extra };
    const all = extra === undefined ? values : [extra, ...values];
    return {
      terms: { ...this.collected },
      extra: (all.length === 1 ? all[0]! : tf.addN(all)) as tf.Scalar,
    };
  }
}

function describe(value: unknown): string {
  return value instanceof tf.Tensor ? `shape [${value.shape}]` : typeof value;
}

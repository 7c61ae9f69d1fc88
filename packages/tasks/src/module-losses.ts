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
   * `{terms}` for a `LossOutput` (nothing when no module added a loss), with `extra` passed through
   * when given. The Trainer adds each term to the objective unweighted and logs it by name.
   */
  output(extra?: tf.Scalar): Pick<LossOutput, 'terms' | 'extra'> {
    const out: Pick<LossOutput, 'terms' | 'extra'> = extra === undefined ? {} : { extra };
    if (Object.keys(this.collected).length > 0) out.terms = { ...this.collected };
    return out;
  }
}

function describe(value: unknown): string {
  return value instanceof tf.Tensor ? `shape [${value.shape}]` : typeof value;
}

import { listNames, MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

/** Throws DUPLICATE_NAME when a tf.Variable of one of `names` is alive (tfjs names are process-wide). */
export function assertFreeVariableNames(names: readonly string[], moduleName: string): void {
  const registered = tf.engine().registeredVariables;
  const seen = new Set<string>();
  for (const n of names) {
    if (registered[n] !== undefined || seen.has(n)) {
      throw new MtlError(
        'DUPLICATE_NAME',
        `a variable named "${n}" already exists: another live module is called "${moduleName}". ` +
          'Dispose the other model first, or give this model a `variablePrefix`',
        { place: `module ${moduleName}` },
      );
    }
    seen.add(n);
  }
}

/** Checks then assigns `weights` into `vars`, naming the module and parameter on any mismatch. */
export function assignWeights(
  vars: Record<string, tf.Variable>,
  weights: Record<string, tf.Tensor>,
  moduleName: string,
): void {
  for (const [k, t] of Object.entries(weights)) {
    const v = vars[k];
    if (v === undefined) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `no parameter "${k}" (parameters: ${listNames(Object.keys(vars))})`,
        { place: `module ${moduleName}` },
      );
    }
    if (!tf.util.arraysEqual(v.shape, t.shape)) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `parameter "${k}" has shape [${v.shape}] but the weights have shape [${t.shape}]`,
        { place: `module ${moduleName}`, details: { param: k, expected: v.shape, got: t.shape } },
      );
    }
  }
  for (const [k, t] of Object.entries(weights)) {
    vars[k]!.assign(t.dtype === 'float32' ? t : tf.cast(t, 'float32'));
  }
}

/**
 * The module's single input: the tensor itself, or the list concatenated along the last axis.
 * Callers run inside the model's tidy, so the concatenation is freed with the step.
 */
export function singleInput(inputs: tf.Tensor[], place: string): tf.Tensor {
  if (inputs.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'received no input', { place });
  }
  return inputs.length === 1 ? inputs[0]! : tf.concat(inputs, -1);
}

/**
 * Applies a [in, out] kernel to the last axis of `x` of any rank >= 2 (rank 1 is one row); a
 * last axis of another width is DATA_SHAPE_MISMATCH naming `place`.
 * @example
 * matmulLastAxis(tf.ones([2, 5, 3]), tf.ones([3, 4]), 'module head'); // [2, 5, 4]
 */
export function matmulLastAxis(x: tf.Tensor, kernel: tf.Tensor, place: string): tf.Tensor {
  const inSize = kernel.shape[0]!;
  if (x.shape[x.shape.length - 1] !== inSize) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `expects inputs whose last axis has ${inSize} values, got shape [${x.shape}]`,
      { place },
    );
  }
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, inSize]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, kernel as tf.Tensor2D), [...lead, kernel.shape[1]!]);
}

import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from './bernoulli.js';
import { Categorical } from './categorical.js';
import { Delta } from './delta.js';
import { adopt, type Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { sameShape } from './internal/shapes.js';
import { broadcastTo } from './internal/tensors.js';
import { MixtureSameFamily } from './mixture-same-family.js';
import { Normal } from './normal.js';

/**
 * Stacks distributions of one family and one batch shape along a new batch axis (default 0): the
 * per-task posteriors q(w_1), ..., q(w_T) become one distribution of batch shape [T], so that
 * every pairwise KL is one broadcast op instead of T² calls.
 * @example
 * const q = stackDistributions([qw1, qw2, qw3]);   // each Independent(Normal [D]) -> batch [3], event [D]
 */
export function stackDistributions(dists: readonly Distribution[], axis = 0): Distribution {
  const first = dists[0];
  if (!first) throw new MtlError('INVALID_ARGUMENT', 'nothing to stack', { place: 'stackDistributions' });
  const rank = first.batchShape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis > rank) {
    throw new MtlError('INVALID_ARGUMENT', `axis must be in 0..${rank}, got ${axis}`, {
      place: 'stackDistributions',
    });
  }
  dists.forEach((d, i) => {
    if (d.constructor !== first.constructor || !sameShape(d.batchShape, first.batchShape)) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `distribution ${i} is ${d.constructor.name} with batch [${d.batchShape}], the first is ${first.constructor.name} with batch [${first.batchShape}]`,
        { place: 'stackDistributions' },
      );
    }
  });
  const stack = (params: tf.Tensor[], trailing: number) =>
    tf.tidy(() => {
      const shape = [...first.batchShape, ...params[0]!.shape.slice(params[0]!.rank - trailing)];
      return tf.stack(
        params.map((p) => broadcastTo(p, shape)),
        axis,
      );
    });
  if (first instanceof Normal) {
    const all = dists as readonly Normal[];
    const loc = stack(
      all.map((d) => d.loc),
      0,
    );
    const logScale = stack(
      all.map((d) => d.logScale),
      0,
    );
    const scale = stack(
      all.map((d) => d.scale),
      0,
    );
    return adopt(new Normal(loc, { logScale, scale }), [loc, logScale, scale]);
  }
  if (first instanceof Bernoulli) {
    const logits = stack(
      (dists as readonly Bernoulli[]).map((d) => d.logits),
      0,
    );
    return adopt(new Bernoulli(logits), [logits]);
  }
  if (first instanceof Categorical) {
    const logits = stack(
      (dists as readonly Categorical[]).map((d) => d.logits),
      1,
    );
    return adopt(new Categorical(logits), [logits]);
  }
  if (first instanceof Delta) {
    const all = dists as readonly Delta[];
    const value = stack(
      all.map((d) => d.value),
      first.eventRank,
    );
    return adopt(new Delta(value, first.eventRank), [value]);
  }
  if (first instanceof Independent) {
    const all = dists as readonly Independent[];
    if (all.some((d) => d.reinterpretedBatchNdims !== first.reinterpretedBatchNdims)) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        'Independent distributions reinterpret different numbers of axes',
        {
          place: 'stackDistributions',
        },
      );
    }
    const base = stackDistributions(
      all.map((d) => d.base),
      axis,
    );
    return adopt(new Independent(base, first.reinterpretedBatchNdims), [base]);
  }
  if (first instanceof MixtureSameFamily) {
    const all = dists as readonly MixtureSameFamily[];
    const logits = stack(
      all.map((d) => d.mixtureLogits),
      1,
    );
    const components = stackDistributions(
      all.map((d) => d.components),
      axis,
    );
    return adopt(new MixtureSameFamily(logits, components), [logits, components]);
  }
  throw new MtlError('NOT_IMPLEMENTED', `cannot stack ${first.constructor.name}`, {
    place: 'stackDistributions',
  });
}

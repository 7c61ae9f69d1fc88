import { MtlError } from '@mtl/core';

/** The KL weight β at a training step (0-based): a finite number >= 0. */
export type BetaSchedule = (step: number) => number;

/**
 * β as data (for configs): a constant, or a linear ramp from `from` to `to` over `steps` steps
 * after `delay` steps (KL annealing: start near an autoencoder, end at the ELBO).
 * @example
 * const warm: BetaSpec = { kind: 'linear', from: 0, to: 1, steps: 500 };
 */
export type BetaSpec =
  | { kind: 'constant'; value?: number }
  | { kind: 'linear'; from?: number; to?: number; steps: number; delay?: number };

/**
 * A checked β schedule from a number (constant), a spec or a function. The default is β = 1 (the
 * ELBO). A schedule that yields a negative or non-finite β is an error naming the step.
 * @example
 * const beta = betaSchedule({ kind: 'linear', from: 0, to: 1, steps: 100 });
 * beta(0);    // 0
 * beta(50);   // 0.5
 * beta(500);  // 1
 */
export function betaSchedule(spec: BetaSpec | BetaSchedule | number = 1): BetaSchedule {
  let inner: BetaSchedule;
  if (typeof spec === 'number') {
    checkBeta(spec, 'beta');
    inner = () => spec;
  } else if (typeof spec === 'function') inner = spec;
  else if (spec.kind === 'constant') {
    const v = spec.value ?? 1;
    checkBeta(v, 'beta.value');
    inner = () => v;
  } else if (spec.kind === 'linear') {
    const from = spec.from ?? 0;
    const to = spec.to ?? 1;
    const delay = spec.delay ?? 0;
    checkBeta(from, 'beta.from');
    checkBeta(to, 'beta.to');
    if (!Number.isInteger(spec.steps) || spec.steps < 1) {
      throw new MtlError('INVALID_ARGUMENT', `steps must be an integer >= 1, got ${spec.steps}`, {
        place: 'beta.steps',
      });
    }
    if (!Number.isInteger(delay) || delay < 0) {
      throw new MtlError('INVALID_ARGUMENT', `delay must be an integer >= 0, got ${delay}`, {
        place: 'beta.delay',
      });
    }
    inner = (step) => from + (to - from) * Math.min(1, Math.max(0, (step - delay) / spec.steps));
  } else {
    throw new MtlError('CONFIG_INVALID', `unknown beta schedule kind "${(spec as { kind: unknown }).kind}"`, {
      place: 'beta.kind',
      details: { known: ['constant', 'linear'] },
    });
  }
  return (step) => {
    const b = inner(step);
    if (!(b >= 0) || !Number.isFinite(b)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `beta schedule gave ${b} at step ${step}; it must be a finite number >= 0`,
        {
          place: 'beta',
        },
      );
    }
    return b;
  };
}

function checkBeta(v: number, place: string): void {
  if (!(v >= 0) || !Number.isFinite(v)) {
    throw new MtlError('INVALID_ARGUMENT', `must be a finite number >= 0, got ${v}`, { place });
  }
}

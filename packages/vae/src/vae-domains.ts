import { MtlError, RandomStream } from '@mtl/core';
import { DictDataset } from '@mtl/data';

/**
 * Options of {@link makeVaeDomains}.
 * @example
 * const options: VaeDomainsOptions = { tasks: 4, dim: 16, latentDim: 2, train: 64, test: 1000 };
 */
export interface VaeDomainsOptions {
  /** Number of domains T (default 4). */
  tasks?: number;
  /** Observation dimension (default 16). */
  dim?: number;
  /** Dimension of the shared latent (default 2). */
  latentDim?: number;
  /** Training rows per domain: one number, or one per domain (default 64). */
  train?: number | readonly number[];
  /** Validation rows per domain (default 0: no `valid` split). */
  valid?: number;
  /** Test rows per domain (default 1000). */
  test?: number;
  /** Amplitude s of the observations s·tanh(A_t z + b_t) (default 1). */
  amplitude?: number;
  /** Standard deviation of the observation noise (default 0.25). */
  noise?: number;
  /** Standard deviation of the shared map's entries A (default 1). */
  mapScale?: number;
  /** Standard deviation of the shared offset's entries b (default 0.5). */
  biasScale?: number;
  /** Standard deviation of each domain's perturbation of A and b (default 0.2). */
  taskSpread?: number;
  /** Domain names (default `domain1`, `domain2`, ...); each domain's label is named like it. */
  taskNames?: readonly string[];
  /** Input field (default `x`). */
  field?: string;
}

/**
 * One generated domain: its splits and its true map.
 * @example
 * const [d1] = makeVaeDomains({}, 7); // d1.train (64 rows), d1.test (1000), d1.A (16 × 2), d1.b
 */
export interface VaeDomain {
  name: string;
  /** Dataset `${name}Dataset`, field `x` `[dim]`, label `name` = the true latent z `[latentDim]` (regression). */
  train: DictDataset;
  valid?: DictDataset;
  test: DictDataset;
  /** The domain's map A_t, row-major `[dim, latentDim]`. */
  A: Float32Array;
  /** The domain's offset b_t `[dim]`. */
  b: Float32Array;
}

function positiveInt(v: unknown, option: string, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new MtlError('INVALID_ARGUMENT', `${option} must be an integer >= ${min}, got ${String(v)}`, {
      place: 'makeVaeDomains',
    });
  }
  return v;
}

function nonNegative(v: unknown, option: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new MtlError('INVALID_ARGUMENT', `${option} must be a finite number >= 0, got ${String(v)}`, {
      place: 'makeVaeDomains',
    });
  }
  return v;
}

/**
 * A seeded multi-domain problem where sharing is useful and measurable. All domains share one
 * latent space: z ~ N(0, I_k); domain t observes
 *
 *   x = s · tanh(A_t z + b_t) + σ ε,   ε ~ N(0, I_dim),
 *
 * with a shared map A (entries N(0, mapScale²)) and offset b (entries N(0, biasScale²)), and
 * A_t = A + Δ_t, b_t = b + δ_t, Δ_t and δ_t with entries N(0, taskSpread²): related but not
 * identical domains. Every split of every domain is drawn from its own stream, so changing the
 * number of training rows leaves the test rows unchanged.
 * @example
 * const domains = makeVaeDomains({ tasks: 4, train: 64, test: 1000 }, 7);
 * domains[0].train.length;   // 64
 */
export function makeVaeDomains(options: VaeDomainsOptions = {}, seed: number | string = 0): VaeDomain[] {
  const T = positiveInt(options.tasks ?? 4, 'tasks');
  const dim = positiveInt(options.dim ?? 16, 'dim');
  const k = positiveInt(options.latentDim ?? 2, 'latentDim');
  const trainOpt = options.train ?? 64;
  const trains = typeof trainOpt === 'number' ? new Array<number>(T).fill(trainOpt) : [...trainOpt];
  if (trains.length !== T) {
    throw new MtlError('INVALID_ARGUMENT', `train lists ${trains.length} sizes but tasks is ${T}`, {
      place: 'makeVaeDomains',
    });
  }
  for (const [t, n] of trains.entries()) positiveInt(n, `train[${t}]`);
  const validN = positiveInt(options.valid ?? 0, 'valid', 0);
  const testN = positiveInt(options.test ?? 1000, 'test');
  const amplitude = nonNegative(options.amplitude ?? 1, 'amplitude');
  const noise = nonNegative(options.noise ?? 0.25, 'noise');
  const mapScale = nonNegative(options.mapScale ?? 1, 'mapScale');
  const biasScale = nonNegative(options.biasScale ?? 0.5, 'biasScale');
  const spread = nonNegative(options.taskSpread ?? 0.2, 'taskSpread');
  const names = options.taskNames
    ? [...options.taskNames]
    : Array.from({ length: T }, (_, t) => `domain${t + 1}`);
  if (names.length !== T || new Set(names).size !== T) {
    throw new MtlError('INVALID_ARGUMENT', `taskNames must be ${T} distinct names`, {
      place: 'makeVaeDomains',
    });
  }
  const field = options.field ?? 'x';
  const root = new RandomStream(String(seed));
  const shared = root.child('vae-domains/shared');
  const A = Float64Array.from({ length: dim * k }, () => mapScale * shared.normal());
  const b = Float64Array.from({ length: dim }, () => biasScale * shared.normal());

  return names.map((name, t) => {
    const own = root.child(`vae-domains/task${t}`);
    const At = Float32Array.from(A, (a) => a + spread * own.normal());
    const bt = Float32Array.from(b, (v) => v + spread * own.normal());
    const draw = (split: string, n: number): DictDataset => {
      const rng = root.child(`vae-domains/task${t}/${split}`);
      const x = new Float32Array(n * dim);
      const z = new Float32Array(n * k);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < k; j++) z[r * k + j] = rng.normal();
        for (let i = 0; i < dim; i++) {
          let a = bt[i]!;
          for (let j = 0; j < k; j++) a += At[i * k + j]! * z[r * k + j]!;
          x[r * dim + i] = amplitude * Math.tanh(a) + noise * rng.normal();
        }
      }
      return new DictDataset(
        `${name}Dataset`,
        split,
        { [field]: { values: x, shape: [n, dim] } },
        { [name]: { values: z, shape: [n, k] } },
        { labelKinds: { [name]: 'regression' }, copy: false },
      );
    };
    const domain: VaeDomain = {
      name,
      train: draw('train', trains[t]!),
      test: draw('test', testN),
      A: At,
      b: bt,
    };
    if (validN > 0) domain.valid = draw('valid', validN);
    return domain;
  });
}

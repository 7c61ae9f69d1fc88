import { MtlError } from '@mtl/core';
import { DictDataset } from './dict-dataset.js';
import { checkPositiveInt, checkSeed, keyedStream } from './internal/checks.js';
import { type SplitRatios, splitIndices } from './split.js';

/**
 * Options of {@link makeMmoeSynthetic}; every default is the MMoE paper's.
 * @example
 * const options: MmoeSyntheticOptions = { n: 2000, correlation: 0.5 };
 */
export interface MmoeSyntheticOptions {
  /** Rows before splitting (default 10000). */
  n?: number;
  /** The tasks' correlation p in [-1, 1] (cosine of w1 and w2; default 1). */
  correlation?: number;
  /** Input dimension d (default 100). */
  dim?: number;
  /** Scale c of the weight vectors (default 1). */
  scale?: number;
  /** Number m of sine terms (default 10). */
  sines?: number;
  /**
   * a_j of the sine terms: m values, or `'normal'` for a draw from N(0, 1) fixed by the seed
   * (keras-mmoe's demo). Default a_j = j, j = 1..m.
   */
  alphas?: readonly number[] | 'normal';
  /** b_j of the sine terms: m values, or `'normal'` (as `alphas`). Default b_j = j². */
  betas?: readonly number[] | 'normal';
  /** Variance of the Gaussian label noise (default 0.01, the paper's N(0, 0.01)). */
  noiseVariance?: number;
  /** Split ratios (default train/valid/test 0.8/0.1/0.1). */
  ratios?: SplitRatios;
  /** Dataset name (default `mmoeSynthetic`). */
  datasetName?: string;
  /** Input field (default `x`, a `[dim]` row). */
  field?: string;
  /** Names of the two regression labels (default `['y1', 'y2']`). */
  labels?: readonly [string, string];
}

/**
 * The MMoE paper's synthetic benchmark (Ma et al., KDD 2018, section 3.2) and its ground truth.
 * @example
 * const { splits, w1, w2 } = makeMmoeSynthetic({ n: 1000, correlation: 0.5 }, 7);
 */
export interface MmoeSynthetic {
  /** Datasets per split: field `x` `[dim]`, regression labels `y1`, `y2`. */
  splits: Record<string, DictDataset>;
  /** The tasks' weight vectors; their cosine is the correlation p. */
  w1: Float64Array;
  w2: Float64Array;
  /** The a_j and b_j used (drawn ones included). */
  alphas: number[];
  betas: number[];
}

function unit(v: Float64Array): Float64Array {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

/**
 * Two regression tasks of controllable correlation p: orthogonal unit vectors u1, u2 in R^d,
 * w1 = c·u1, w2 = c·(p·u1 + √(1 − p²)·u2), x ~ N(0, I), and
 * y_i = w_i·x + Σ_{j=1..m} sin(a_j·w_i·x + b_j) + ε_i, ε_i ~ N(0, 0.01); a_j = j, b_j = j², c = 1 and
 * m = 10 unless set (`alphas: 'normal'` draws them from N(0, 1), as keras-mmoe's demo). The sines make the
 * tasks' Pearson correlation fall below p: the data is what the paper varies p over. Deterministic
 * from the seed (u1, u2 from one stream, the rows from another, the split from a third).
 * @example
 * const { splits } = makeMmoeSynthetic({ n: 1000, correlation: 0.9 }, 7);
 * splits.train!.length; // 800
 */
export function makeMmoeSynthetic(
  options: MmoeSyntheticOptions = {},
  seed: number | string = 0,
): MmoeSynthetic {
  const place = 'makeMmoeSynthetic';
  const n = checkPositiveInt(options.n ?? 10_000, 'n', place);
  const d = checkPositiveInt(options.dim ?? 100, 'dim', place);
  const m = options.sines ?? 10;
  if (!Number.isInteger(m) || m < 0) {
    throw new MtlError('INVALID_ARGUMENT', `sines must be an integer >= 0, got ${m}`, { place });
  }
  if (d < 2)
    throw new MtlError('INVALID_ARGUMENT', 'dim must be at least 2 (two orthogonal vectors)', { place });
  const p = options.correlation ?? 1;
  if (!(p >= -1 && p <= 1)) {
    throw new MtlError('INVALID_ARGUMENT', `correlation must be in [-1, 1], got ${p}`, { place });
  }
  const c = options.scale ?? 1;
  const noise = options.noiseVariance ?? 0.01;
  if (!Number.isFinite(c) || !(noise >= 0) || !Number.isFinite(noise)) {
    throw new MtlError('INVALID_ARGUMENT', 'scale must be finite and noiseVariance finite and >= 0', {
      place,
    });
  }
  const [label1, label2] = options.labels ?? ['y1', 'y2'];
  if (label1 === label2) throw new MtlError('INVALID_ARGUMENT', 'the two labels need two names', { place });
  const s = checkSeed(seed, place);
  // Each drawn list has its own stream, so drawing the betas does not change the rows or the alphas.
  const sineParams = (
    given: readonly number[] | 'normal' | undefined,
    what: 'alphas' | 'betas',
    paper: (j: number) => number,
  ): number[] => {
    if (given === 'normal') {
      const draw = keyedStream(s, `mmoe/${what}`);
      return Array.from({ length: m }, () => draw.normal());
    }
    const values = given === undefined ? Array.from({ length: m }, (_, j) => paper(j + 1)) : [...given];
    if (values.length !== m || !values.every(Number.isFinite)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `${what} needs ${m} finite values (one per sine), got ${values.length}`,
        { place: `${place}.${what}` },
      );
    }
    return values;
  };
  const alphas = sineParams(options.alphas, 'alphas', (j) => j);
  const betas = sineParams(options.betas, 'betas', (j) => j * j);

  // u1, u2: Gaussian directions, u2 made orthogonal to u1 (Gram-Schmidt).
  const dirs = keyedStream(s, 'mmoe/directions');
  const u1 = unit(Float64Array.from({ length: d }, () => dirs.normal()));
  const g = Float64Array.from({ length: d }, () => dirs.normal());
  const dot = g.reduce((acc, v, i) => acc + v * u1[i]!, 0);
  const u2 = unit(g.map((v, i) => v - dot * u1[i]!));
  const q = Math.sqrt(Math.max(0, 1 - p * p));
  const w1 = u1.map((v) => c * v);
  const w2 = u1.map((v, i) => c * (p * v + q * u2[i]!));

  const rows = keyedStream(s, 'mmoe/rows');
  const x = new Float32Array(n * d);
  const y1 = new Float32Array(n);
  const y2 = new Float32Array(n);
  const sd = Math.sqrt(noise);
  const target = (w: Float64Array, i: number) => {
    let wx = 0;
    for (let k = 0; k < d; k++) wx += w[k]! * x[i * d + k]!;
    let y = wx;
    for (let j = 0; j < m; j++) y += Math.sin(alphas[j]! * wx + betas[j]!);
    return y;
  };
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) x[i * d + k] = rows.normal();
    y1[i] = target(w1, i) + sd * rows.normal();
    y2[i] = target(w2, i) + sd * rows.normal();
  }
  const field = options.field ?? 'x';
  const all = new DictDataset(
    options.datasetName ?? 'mmoeSynthetic',
    'all',
    { [field]: { values: x, shape: [n, d] } },
    { [label1]: y1, [label2]: y2 },
    { labelKinds: { [label1]: 'regression', [label2]: 'regression' }, copy: false },
  );
  const parts = splitIndices(n, options.ratios ?? { train: 0.8, valid: 0.1, test: 0.1 }, `${s}/mmoe/split`);
  const splits: Record<string, DictDataset> = {};
  for (const [split, idx] of Object.entries(parts)) splits[split] = all.subset(idx, split);
  return { splits, w1, w2, alphas, betas };
}

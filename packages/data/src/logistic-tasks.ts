import { MtlError, type RandomStream } from '@mtl/core';
import { DictDataset } from './dict-dataset.js';
import { checkPositiveInt, checkSeed, keyedStream } from './internal/checks.js';
import { splitIndices } from './split.js';

/**
 * Options of {@link makeLogisticTasks}.
 * @example
 * makeLogisticTasks({ tasks: 8, sizes: 2000, dim: 16 }, 1); // a scaling benchmark
 */
export interface LogisticTasksOptions {
  /** Number of tasks T (default 3). Tasks are linked in pairs (1-2, 3-4, ...); an odd last task is solo. */
  tasks?: number;
  /** Examples per task, one number for all or one per task (default 600). */
  sizes?: number | readonly number[];
  /** Input dimension (default 2). */
  dim?: number;
  /** Share of each task held out as `test` (default 0.2; the rest is `train`). */
  testRatio?: number;
  /** Inputs are `inputScale · N(0, I)` (default 5). */
  inputScale?: number;
  /** The second task of a pair sees its partner's inputs plus `linkNoise · N(0, I)` (default 0.01). */
  linkNoise?: number;
  /** Standard deviation of the true weights around their means (default 0.1). */
  weightScale?: number;
  /** Task names (default `task1`, `task2`, ...): each task's label is named like the task. */
  taskNames?: readonly string[];
  /** Input field of every task (default `x`). */
  field?: string;
}

/**
 * One generated task: its splits, its true weights, and its partner.
 * @example
 * const [t1] = makeLogisticTasks({}, 43); // t1.train (480 rows), t1.test (120), t1.w, t1.linkedTo === 1
 */
export interface LogisticTask {
  name: string;
  /** Dataset `${name}Dataset`, split `train`: field `x` `[dim]`, label `name` (0/1 class ids). */
  train: DictDataset;
  test: DictDataset;
  /** Every example before splitting (split `all`), rows in generation order. */
  all: DictDataset;
  /** The true classifier weights w_t. */
  w: Float32Array;
  /** Index of the linked task, or `null` for a solo task. */
  linkedTo: number | null;
}

function normals(rng: RandomStream, n: number, scale: number, mean = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + scale * rng.normal();
  return out;
}

function columnMeans(x: Float64Array, rows: number, dim: number): Float64Array {
  const m = new Float64Array(dim);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) m[j]! += x[i * dim + j]! / rows;
  return m;
}

/**
 * The VMTL elementary example's data (seeds 001/002): T logistic-regression tasks with
 * `X ~ 5·N(0, I)`. Tasks are linked in pairs: the second of a pair shares the first's inputs up to
 * noise of scale 0.01, and their weights point at each other's input means,
 * `w_a ~ N(mean X_b, 0.1² I)`, `w_b ~ N(mean X_a, 0.1² I)`; a solo task has `w ~ N(1, 0.1² I)`.
 * Labels are `y ~ Bernoulli(sigmoid(x·w))`. The defaults are the seed's: 3 tasks (1-2 linked, 3
 * solo), dim 2, 600 each, 20% test. Sizes may differ per task (a longer partner draws its extra
 * rows fresh). Each pair draws from its own stream, so adding tasks does not change earlier ones.
 * @example
 * const tasks = makeLogisticTasks({}, 43);
 * tasks[0].train.length; // 480
 * tasks[0].linkedTo;     // 1
 */
export function makeLogisticTasks(
  options: LogisticTasksOptions = {},
  seed: number | string = 0,
): LogisticTask[] {
  const place = 'makeLogisticTasks';
  const T = checkPositiveInt(options.tasks ?? 3, 'tasks', place);
  const dim = checkPositiveInt(options.dim ?? 2, 'dim', place);
  const sizesOpt = options.sizes ?? 600;
  const sizes = typeof sizesOpt === 'number' ? Array.from({ length: T }, () => sizesOpt) : [...sizesOpt];
  if (sizes.length !== T) {
    throw new MtlError('INVALID_ARGUMENT', `sizes lists ${sizes.length} tasks but tasks is ${T}`, { place });
  }
  for (const [t, n] of sizes.entries()) checkPositiveInt(n, `sizes[${t}]`, place);
  const testRatio = options.testRatio ?? 0.2;
  if (!(testRatio >= 0 && testRatio < 1)) {
    throw new MtlError('INVALID_ARGUMENT', `testRatio must be in [0, 1), got ${testRatio}`, { place });
  }
  const names = options.taskNames
    ? [...options.taskNames]
    : Array.from({ length: T }, (_, t) => `task${t + 1}`);
  if (names.length !== T || new Set(names).size !== T) {
    throw new MtlError('INVALID_ARGUMENT', `taskNames must be ${T} distinct names`, { place });
  }
  const scale = options.inputScale ?? 5;
  const noise = options.linkNoise ?? 0.01;
  const wScale = options.weightScale ?? 0.1;
  const field = options.field ?? 'x';
  const s = checkSeed(seed, place);

  const inputs: Float64Array[] = [];
  const weights: Float64Array[] = [];
  const linked: (number | null)[] = [];
  for (let a = 0; a < T; a += 2) {
    const rng = keyedStream(s, `logistic/pair${a / 2}`);
    const b = a + 1;
    if (b >= T) {
      inputs[a] = normals(rng, sizes[a]! * dim, scale);
      weights[a] = normals(rng, dim, wScale, 1);
      linked[a] = null;
      continue;
    }
    const xa = normals(rng, sizes[a]! * dim, scale);
    const xb = new Float64Array(sizes[b]! * dim);
    for (let i = 0; i < xb.length; i++) {
      xb[i] = (i < xa.length ? xa[i]! : scale * rng.normal()) + noise * rng.normal();
    }
    inputs[a] = xa;
    inputs[b] = xb;
    const ma = columnMeans(xa, sizes[a]!, dim);
    const mb = columnMeans(xb, sizes[b]!, dim);
    weights[a] = Float64Array.from(mb, (m) => m + wScale * rng.normal());
    weights[b] = Float64Array.from(ma, (m) => m + wScale * rng.normal());
    linked[a] = b;
    linked[b] = a;
  }

  return names.map((name, t) => {
    const n = sizes[t]!;
    const x = inputs[t]!;
    const w = weights[t]!;
    const rng = keyedStream(s, `logistic/labels${t}`);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < dim; j++) z += x[i * dim + j]! * w[j]!;
      y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    }
    const all = new DictDataset(
      `${name}Dataset`,
      'all',
      { [field]: { values: Float32Array.from(x), shape: [n, dim] } },
      { [name]: y },
      { numClasses: 2, labelKinds: { [name]: 'class' }, copy: false },
    );
    const { train, test } = splitIndices(
      n,
      { train: 1 - testRatio, test: testRatio },
      `${s}/logistic/split${t}`,
    );
    return {
      name,
      train: all.subset(train!, 'train'),
      test: all.subset(test!, 'test'),
      all,
      w: Float32Array.from(w),
      linkedTo: linked[t]!,
    };
  });
}

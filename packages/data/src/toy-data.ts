import { MtlError } from '@mtl/core';
import { DictDataset } from './dict-dataset.js';
import { checkPositiveInt, checkSeed, keyedStream } from './internal/checks.js';
import { type SplitRatios, splitIndices } from './split.js';

/**
 * The toy tasks of Snorkel's multitask tutorial (seed 003).
 * @example
 * for (const task of TOY_TASKS) makeToyDatasets(task, {}, 0);
 */
export const TOY_TASKS = ['circle', 'square', 'inv_circle'] as const;
/**
 * One of {@link TOY_TASKS}.
 * @example
 * const task: ToyTask = 'inv_circle';
 */
export type ToyTask = (typeof TOY_TASKS)[number];

/**
 * Options of the toy generators.
 * @example
 * makeCircleDatasets({ n: 5000, field: 'xy', label: 'inside' }, 1);
 */
export interface ToyDataOptions {
  /** Points per task, before splitting (default 1000). */
  n?: number;
  /** Radius R (default 1): circle x²+y² < R², square |x|, |y| < R/2, inv_circle x²+y² > R². */
  radius?: number;
  /** Split ratios (default train/valid/test 0.8/0.1/0.1 -> 800/100/100). */
  ratios?: SplitRatios;
  /** Dataset name (default `${task}Dataset`, e.g. `circleDataset`). */
  datasetName?: string;
  /** Input field (default `${task}_data`, a `[2]` row per point). */
  field?: string;
  /** Label name (default `${task}_task`, class ids 0/1, `numClasses` 2). */
  label?: string;
}

/**
 * Points and labels of one toy task.
 * @example
 * const { x, y }: ToyPoints = toyPoints('square', 100, 0); // x.length 200, y.length 100
 */
export interface ToyPoints {
  /** `n` rows of 2 coordinates, row-major. */
  x: Float32Array;
  /** 0/1 class ids. */
  y: Int32Array;
}

function checkTask(task: string): ToyTask {
  if (!(TOY_TASKS as readonly string[]).includes(task)) {
    throw new MtlError('INVALID_ARGUMENT', `unknown toy task "${task}" (known: ${TOY_TASKS.join(', ')})`, {
      place: 'toy data',
    });
  }
  return task as ToyTask;
}

/**
 * Draws `n` points uniform in [-1, 1]² and labels them for a toy task. Every task draws its own
 * points (a stream keyed by the task name), so tasks are independent for one seed.
 * @example
 * const { x, y } = toyPoints('circle', 1000, 0); // about 78.5% (π/4) of y are 1
 */
export function toyPoints(task: ToyTask, n: number, seed: number | string = 0, radius = 1): ToyPoints {
  checkTask(task);
  checkPositiveInt(n, 'n', 'toy data');
  if (!(radius > 0) || !Number.isFinite(radius)) {
    throw new MtlError('INVALID_ARGUMENT', `radius must be a positive number, got ${radius}`, {
      place: 'toy data',
    });
  }
  const rng = keyedStream(checkSeed(seed, 'toy data'), `toy/${task}`);
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  const r2 = radius * radius;
  const half = radius / 2;
  for (let i = 0; i < n; i++) {
    // Labels come from the stored float32 coordinates, so they agree with the data exactly.
    const a = Math.fround(2 * rng.next() - 1);
    const b = Math.fround(2 * rng.next() - 1);
    x[2 * i] = a;
    x[2 * i + 1] = b;
    const d2 = a * a + b * b;
    const inside =
      task === 'circle' ? d2 < r2 : task === 'square' ? Math.abs(a) < half && Math.abs(b) < half : d2 > r2;
    y[i] = inside ? 1 : 0;
  }
  return { x, y };
}

/**
 * A toy task's data as one {@link DictDataset} per split, named like Snorkel's tutorial:
 * `circleDataset` with field `circle_data` and label `circle_task` (all configurable).
 * @example
 * const { train, valid, test } = makeToyDatasets('circle', {}, 0); // 800 / 100 / 100 rows
 */
export function makeToyDatasets(
  task: ToyTask,
  options: ToyDataOptions = {},
  seed: number | string = 0,
): Record<string, DictDataset> {
  checkTask(task);
  const n = options.n ?? 1000;
  const { x, y } = toyPoints(task, n, seed, options.radius ?? 1);
  const field = options.field ?? `${task}_data`;
  const label = options.label ?? `${task}_task`;
  const all = new DictDataset(
    options.datasetName ?? `${task}Dataset`,
    'all',
    { [field]: { values: x, shape: [n, 2] } },
    { [label]: y },
    { numClasses: 2, labelKinds: { [label]: 'class' }, copy: false },
  );
  const out: Record<string, DictDataset> = {};
  const parts = splitIndices(
    n,
    options.ratios ?? { train: 0.8, valid: 0.1, test: 0.1 },
    `${seed}/toy/${task}`,
  );
  for (const [split, idx] of Object.entries(parts)) out[split] = all.subset(idx, split);
  return out;
}

/**
 * Circle task: label 1 inside the circle x² + y² < R² (about π/4 ≈ 78.5% positive).
 * @example
 * const { train } = makeCircleDatasets({}, 0); // circleDataset/train, 800 rows
 */
export function makeCircleDatasets(
  options: ToyDataOptions = {},
  seed: number | string = 0,
): Record<string, DictDataset> {
  return makeToyDatasets('circle', options, seed);
}

/**
 * Square task: label 1 inside |x| < R/2 and |y| < R/2 (about 25% positive).
 * @example
 * const { valid } = makeSquareDatasets({}, 0); // squareDataset/valid, 100 rows
 */
export function makeSquareDatasets(
  options: ToyDataOptions = {},
  seed: number | string = 0,
): Record<string, DictDataset> {
  return makeToyDatasets('square', options, seed);
}

/**
 * Inverted circle task: label 1 outside the circle, x² + y² > R² (about 21.5% positive).
 * @example
 * const { test } = makeInvCircleDatasets({}, 0); // inv_circleDataset/test, 100 rows
 */
export function makeInvCircleDatasets(
  options: ToyDataOptions = {},
  seed: number | string = 0,
): Record<string, DictDataset> {
  return makeToyDatasets('inv_circle', options, seed);
}

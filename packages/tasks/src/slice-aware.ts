import { listNames, MtlError } from '@mtl/core';
import type { DictDataset } from '@mtl/data';
import { childModule } from './internal/child-config.js';
import type { Module } from './module.js';
import { Dense } from './modules/dense.js';
import { SliceCombiner } from './modules/slice-combiner.js';
import { Operation } from './operation.js';
import { type InputShapes, inferShapes, isRowShape } from './shape-inference.js';
import { type SliceCondition, type SliceRowMasks, sliceMasks } from './slicing.js';
import { Task } from './task.js';
import type { SplitDatasets, TaskData } from './task-data.js';

/** The slice of every row, which a slice-aware model adds to the declared ones (as Snorkel does). */
export const BASE_SLICE = 'base';

/**
 * Options of a slice-aware task ({@link sliceAwareTasks}; the `mtl` config's `tasks.<t>.sliceAware`).
 * @example
 * const options: SliceAwareOptions = { slices: ['short', 'negated'], expert: { kind: 'dense', units: 16, activation: 'relu' } };
 */
export interface SliceAwareOptions {
  /** The declared slices (their names); the base slice of every row is added. */
  slices: readonly string[];
  /**
   * Each slice's expert (a fresh copy per slice): a module config of any kind, which must output rows
   * as wide as the representation the task's head reads. Default a linear `dense` layer of that
   * width (Snorkel's per-slice transform).
   */
  expert?: { [option: string]: unknown } | undefined;
  /** τ of the combiner's attention; default 1. */
  temperature?: number | undefined;
  /** Loss weight of each slice indicator task; default 1. */
  indicatorWeight?: number | undefined;
  /** Loss weight of each slice predictor task; default 1. */
  predictorWeight?: number | undefined;
}

/**
 * The names a slice-aware task `base` adds, each slice's (the base slice first): the indicator
 * tasks `<base>.ind.<slice>` and predictor tasks `<base>.pred.<slice>` (their labels have the same
 * names), the modules `<base>.ind.<slice>` (indicator heads), `<base>.expert.<slice>` (slice
 * experts), `<base>.pred_head` (the predictor head all slices share) and `<base>.combiner`.
 * @example
 * sliceTaskNames('y', ['short']).indicator; // { base: 'y.ind.base', short: 'y.ind.short' }
 */
export function sliceTaskNames(
  base: string,
  slices: readonly string[],
): {
  slices: string[];
  indicator: Record<string, string>;
  predictor: Record<string, string>;
  expert: Record<string, string>;
  predHead: string;
  combiner: string;
} {
  const all = [BASE_SLICE, ...slices.filter((s) => s !== BASE_SLICE)];
  const by = (part: string) => Object.fromEntries(all.map((s) => [s, `${base}.${part}.${s}`]));
  return {
    slices: all,
    indicator: by('ind'),
    predictor: by('pred'),
    expert: by('expert'),
    predHead: `${base}.pred_head`,
    combiner: `${base}.combiner`,
  };
}

/**
 * Snorkel's `convert_to_slice_tasks`: a task becomes a slice-aware model of 1 + 2(S+1) tasks over
 * one pool (the base slice of every row is added to the S declared slices). The task's last
 * operation is its head; what the head reads is the **representation**. For each slice s:
 * - an indicator task `<task>.ind.<s>` (binary, F1 and accuracy): a one-logit head on the
 *   representation learns whether a row is in s;
 * - a predictor task `<task>.pred.<s>` (the task's kind and scorer): the slice's expert maps the
 *   representation to a slice representation, and one predictor head shared by every slice
 *   predicts the task's label from it; its labels are the task's on rows of s and abstain
 *   elsewhere, so it learns from the slice's rows only.
 *
 * The task itself keeps its name, label, scorer and head, which now reads the
 * {@link SliceCombiner}'s attention-weighted sum of the slice representations. The operations
 * before the head are shared by every task (by module name), and each indicator, expert and
 * predictor operation runs once per batch whichever task needs it. The datasets must carry the
 * slice labels ({@link withSliceLabels}).
 *
 * Widths come from shape inference with `inputShapes` (or from the head's given `inputSize` and
 * `units`). Refused (CONFIG_INVALID): a regression or multi-label task (the combiner reads the
 * predictors' class confidence), a head that reads nothing but the task's input, a generated name
 * that a module of the task already has (DUPLICATE_NAME).
 * @example
 * const tasks = sliceAwareTasks(task, { slices: ['short'] }, { text: [32] });
 * tasks.map((t) => t.name); // ['y', 'y.ind.base', 'y.ind.short', 'y.pred.base', 'y.pred.short']
 */
export function sliceAwareTasks(base: Task, options: SliceAwareOptions, inputShapes?: InputShapes): Task[] {
  const place = `task ${base.name}`;
  if (base.kind !== 'multiclass' && base.kind !== 'binary') {
    throw new MtlError(
      'CONFIG_INVALID',
      `a slice-aware task is multiclass or binary (its combiner weighs the slice predictors by their class confidence), not ${base.kind}`,
      { place },
    );
  }
  const names = sliceTaskNames(base.name, options.slices);
  const headOp = base.opSequence[base.opSequence.length - 1]!;
  const body = base.opSequence.slice(0, -1);
  if (body.length === 0) {
    throw new MtlError(
      'CONFIG_INVALID',
      'a slice-aware task needs operations before its head: the slices share the representation the head reads',
      { place },
    );
  }
  const head = base.modulePool.get(headOp.moduleName)!;
  const shapes = inputShapes === undefined ? {} : inferShapes([base], inputShapes);
  const headConfig = head.getConfig() as { inputSize?: unknown; units?: unknown };
  const outWidth =
    shapes[base.name]?.[0] ?? (typeof headConfig.units === 'number' ? headConfig.units : undefined);
  const repWidth = typeof headConfig.inputSize === 'number' ? headConfig.inputSize : undefined;
  if (typeof outWidth !== 'number' || repWidth === undefined) {
    throw new MtlError(
      'CONFIG_INVALID',
      `cannot tell the widths of head "${headOp.moduleName}" (what it reads and outputs): give the data's shapes or the head's inputSize and units`,
      { place },
    );
  }
  const taken = [...base.modulePool.keys()];
  const generated = [
    ...Object.values(names.indicator),
    ...Object.values(names.expert),
    names.predHead,
    names.combiner,
  ];
  const clash = generated.filter((n) => taken.includes(n));
  if (clash.length > 0) {
    throw new MtlError(
      'DUPLICATE_NAME',
      `the slice-aware model names its modules ${listNames(clash)}, which the task already uses: rename them`,
      { place },
    );
  }
  const bodyPool = new Map<string, Module>(
    body.map((op) => [op.moduleName, base.modulePool.get(op.moduleName)!]),
  );
  const rep = headOp.inputs;
  const expertConfig = options.expert ?? { type: 'dense', units: repWidth };
  const indicators = names.slices.map((s) => ({
    slice: s,
    module: new Dense({ units: 1 }) as Module,
    op: new Operation({ name: names.indicator[s]!, moduleName: names.indicator[s]!, inputs: rep }),
  }));
  const predHead = new Dense({ units: outWidth });
  const predictors = names.slices.map((s) => {
    const expert = childModule({ ...expertConfig }, `${place} sliceAware.expert`);
    // The task's head reads the combined expert outputs where it read r: same width.
    const width = expert.inferShape?.([[repWidth]]);
    if (isRowShape(width) && width.length === 1 && width[0] !== repWidth) {
      throw new MtlError(
        'CONFIG_INVALID',
        `the slice expert outputs rows of ${width[0]} values, but head "${headOp.moduleName}" reads ${repWidth}: give the expert ${repWidth} output units`,
        { place },
      );
    }
    const expertOp = new Operation({ name: names.expert[s]!, moduleName: names.expert[s]!, inputs: rep });
    const predOp = new Operation({
      name: names.predictor[s]!,
      moduleName: names.predHead,
      inputs: [names.expert[s]!],
    });
    return { slice: s, expert, expertOp, predOp };
  });
  const combiner = new SliceCombiner({
    slices: names.slices,
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
  });
  const combinerOp = new Operation({
    name: names.combiner,
    moduleName: names.combiner,
    inputs: [
      ...indicators.map((i) => i.op.name),
      ...predictors.map((p) => p.predOp.name),
      ...predictors.map((p) => p.expertOp.name),
    ],
  });
  const finalHead = new Operation({
    name: headOp.name,
    moduleName: headOp.moduleName,
    inputs: [names.combiner],
  });

  const shared = {
    ...(base.customLoss === undefined ? {} : { loss: base.customLoss }),
    ...(base.customOutput === undefined ? {} : { output: base.customOutput }),
    ...(base.numClasses === undefined ? {} : { numClasses: base.numClasses }),
  };
  const pool = new Map<string, Module>(base.modulePool);
  for (const i of indicators) pool.set(i.op.moduleName, i.module);
  for (const p of predictors) pool.set(p.expertOp.moduleName, p.expert);
  pool.set(names.predHead, predHead);
  pool.set(names.combiner, combiner);
  const master = new Task({
    name: base.name,
    kind: base.kind,
    label: base.label,
    weight: base.weight,
    scorer: base.scorer,
    modulePool: pool,
    opSequence: [
      ...body,
      ...indicators.map((i) => i.op),
      ...predictors.flatMap((p) => [p.expertOp, p.predOp]),
      combinerOp,
      finalHead,
    ],
    ...shared,
  });
  const indicatorTasks = indicators.map(
    (i) =>
      new Task({
        name: names.indicator[i.slice]!,
        kind: 'binary',
        weight: options.indicatorWeight ?? 1,
        numClasses: 2,
        // Snorkel scores indicators by F1: a slice is often a small share of the rows.
        scorer: { metrics: ['f1', 'accuracy'] },
        modulePool: new Map([...bodyPool, [i.op.moduleName, i.module]]),
        opSequence: [...body, i.op],
      }),
  );
  const predictorTasks = predictors.map(
    (p) =>
      new Task({
        name: names.predictor[p.slice]!,
        kind: base.kind,
        weight: options.predictorWeight ?? 1,
        scorer: base.scorer,
        modulePool: new Map([...bodyPool, [p.expertOp.moduleName, p.expert], [names.predHead, predHead]]),
        opSequence: [...body, p.expertOp, p.predOp],
        ...shared,
      }),
  );
  return [master, ...indicatorTasks, ...predictorTasks];
}

/**
 * Snorkel's `add_slice_labels` for one dataset: the labels of a slice-aware task's indicator tasks
 * (1 in the slice, 0 elsewhere; the base slice is every row) and predictor tasks (the task's label
 * in the slice, abstaining elsewhere: -1 for class ids, a row of -1 for probability rows), named
 * as {@link sliceTaskNames} says. The task's label must be class ids or probability rows.
 * @example
 * const withSlices = addSliceLabels(ds, 'y', 'y', { short: Uint8Array.from([1, 0, 1]) });
 * withSlices.labelValues('y.pred.short'); // the labels of rows 0 and 2, -1 at row 1
 */
export function addSliceLabels(
  ds: DictDataset,
  task: string,
  label: string,
  masks: Readonly<SliceRowMasks>,
): DictDataset {
  const place = `dataset ${ds.name}/${ds.split}`;
  if (!ds.hasLabel(label)) {
    throw new MtlError('UNKNOWN_FIELD', `has no label "${label}" (labels: ${listNames(ds.labelNames)})`, {
      place,
    });
  }
  const info = ds.labelInfo(label);
  if (info.kind !== 'class' && info.kind !== 'soft') {
    throw new MtlError(
      'CONFIG_INVALID',
      `label "${label}" is ${info.kind}: a slice-aware task learns class ids or class probabilities`,
      { place },
    );
  }
  const names = sliceTaskNames(task, Object.keys(masks));
  const values = ds.labelValues(label);
  const width = info.rowShape.reduce((a, b) => a * b, 1);
  const labels: Record<string, Int32Array | Float32Array | { values: Float32Array; shape: number[] }> = {};
  const labelKinds: Record<string, 'class' | 'soft'> = {};
  const numClasses: Record<string, number> = {};
  for (const s of names.slices) {
    const mask = s === BASE_SLICE ? new Uint8Array(ds.length).fill(1) : masks[s]!;
    if (mask.length !== ds.length) {
      throw new MtlError(
        'DATA_LENGTH_MISMATCH',
        `the mask of slice ${s} has ${mask.length} entries but the dataset has ${ds.length} rows`,
        { place },
      );
    }
    labels[names.indicator[s]!] = Int32Array.from(mask);
    labelKinds[names.indicator[s]!] = 'class';
    numClasses[names.indicator[s]!] = 2;
    const pred = values.slice() as Int32Array | Float32Array;
    for (let r = 0; r < ds.length; r++) {
      if (mask[r]) continue;
      pred.fill(-1, r * width, (r + 1) * width);
    }
    labels[names.predictor[s]!] =
      info.kind === 'class' ? pred : { values: pred as Float32Array, shape: [ds.length, width] };
    labelKinds[names.predictor[s]!] = info.kind;
    if (info.numClasses !== undefined) numClasses[names.predictor[s]!] = info.numClasses;
  }
  return ds.withLabels(labels, { labelKinds, numClasses });
}

/**
 * Each split's slice masks of a task's datasets ({@link sliceMasks}): what
 * {@link TaskData.slices} and {@link withSliceLabels} take. Evaluate them on the data as read, before
 * scaling, so that a condition's numbers mean what the file says.
 * @example
 * const masks = splitSliceMasks(data.splits, { short: { field: 'length', lt: 5 } }, 'tasks.y.slices');
 */
export function splitSliceMasks(
  splits: Readonly<SplitDatasets>,
  slices: Readonly<Record<string, SliceCondition>>,
  place = 'slices',
): Record<string, SliceRowMasks> {
  return Object.fromEntries(
    Object.entries(splits).map(([split, ds]) => [split, sliceMasks(ds, slices, place)]),
  );
}

/**
 * The task data of a slice-aware task: every dataset of the task (in every task's data that reads
 * it, so that one loader still feeds them all) gains the slice labels ({@link addSliceLabels}); the
 * indicator and predictor tasks get entries of their own; the task's entry records its slice masks
 * (scored per slice). A slice that holds no train row is DATA_EMPTY at `<place>.<slice>`.
 * @example
 * const data = withSliceLabels(taskData, 'y', splitSliceMasks(taskData.y.splits, slices));
 * const { model } = buildMultitaskModel({ y: { ...entry, sliceAware: { slices: ['short'] } } }, data, modules, 0);
 */
export function withSliceLabels(
  taskData: Readonly<Record<string, TaskData>>,
  task: string,
  masks: Readonly<Record<string, SliceRowMasks>>,
  place = `tasks.${task}.slices`,
): Record<string, TaskData> {
  const data = taskData[task];
  if (data === undefined) {
    throw new MtlError(
      'UNKNOWN_TASK',
      `no task data for "${task}" (tasks: ${listNames(Object.keys(taskData))})`,
      {
        place,
      },
    );
  }
  const replaced = new Map<DictDataset, DictDataset>();
  let sliceNames: string[] | undefined;
  for (const [split, ds] of Object.entries(data.splits)) {
    const m = masks[split];
    if (m === undefined) {
      throw new MtlError('CONFIG_INVALID', `no slice masks for split ${split}`, { place });
    }
    sliceNames ??= Object.keys(m);
    if (split === 'train') {
      for (const [s, mask] of Object.entries(m)) {
        if (!mask.includes(1)) {
          throw new MtlError(
            'DATA_EMPTY',
            `slice ${s} holds no row of the train split, so its predictor cannot learn`,
            {
              place: `${place}.${s}`,
            },
          );
        }
      }
    }
    replaced.set(ds, addSliceLabels(ds, task, data.label, m));
  }
  const out: Record<string, TaskData> = {};
  for (const [name, d] of Object.entries(taskData)) {
    const splits = Object.fromEntries(Object.entries(d.splits).map(([s, ds]) => [s, replaced.get(ds) ?? ds]));
    out[name] = { ...d, splits };
  }
  out[task] = { ...out[task]!, slices: { ...masks } };
  const names = sliceTaskNames(task, sliceNames ?? []);
  for (const s of names.slices) {
    for (const generated of [names.indicator[s]!, names.predictor[s]!]) {
      if (out[generated] !== undefined) {
        throw new MtlError('DUPLICATE_NAME', `the slice-aware task adds task "${generated}", which exists`, {
          place,
        });
      }
      const { slices: _scoredOnTheTask, ...rest } = out[task]!;
      out[generated] = { ...rest, label: generated };
    }
  }
  return out;
}

import { MtlError } from '@mtl/core';
import type { Batch } from '@mtl/data';
import type * as tf from '@tensorflow/tfjs';
import type { Task } from '../task.js';

/**
 * Checks of a task's head against what the task and the batch declare. A head narrower than the
 * classes would train without an error (rows of the missing classes add zero loss and can never be
 * predicted), so the width is checked at every forward pass and loss, where it costs only a look at
 * shapes. A custom loss or output may read any shape (e.g. C - 1 ordinal logits), so neither check
 * applies to a task that has one.
 */
export function checkTaskOutputs(task: Task, outputs: tf.Tensor, batch: Batch): void {
  if (task.customLoss !== undefined || task.customOutput !== undefined || outputs.rank > 2) return;
  const labels = batch.Y[task.label];
  const units = outputs.rank === 2 ? outputs.shape[1]! : 1;
  const expected = expectedWidth(task, labels);
  if (expected !== undefined && units !== expected.units) {
    const module = task.outputModule;
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `the last operation (module "${module}") outputs ${units} unit${units === 1 ? '' : 's'} but ${expected.why}: give module "${module}" ${expected.units} unit${expected.units === 1 ? '' : 's'}${expected.hint}`,
      {
        place: `task ${task.name}`,
        details: { task: task.name, module, units, expected: expected.units },
      },
    );
  }
  if (labels !== undefined && labels.rank === 1 && (task.kind === 'multiclass' || task.kind === 'binary')) {
    checkClassIds(task, labels, task.kind === 'binary' ? 2 : units, batch);
  }
}

interface Expected {
  units: number;
  why: string;
  hint: string;
}

function expectedWidth(task: Task, labels: tf.Tensor | undefined): Expected | undefined {
  const declared = task.numClasses;
  switch (task.kind) {
    case 'binary':
      return {
        units: 1,
        why: 'a binary task has one logit per row (2 classes)',
        hint: ", or use kind 'multiclass' for a softmax over the units",
      };
    case 'multiclass':
    case 'multilabel': {
      const what = task.kind === 'multiclass' ? 'class' : 'label';
      if (declared !== undefined) {
        return { units: declared, why: `the task has ${declared} ${plural(declared, what)}`, hint: '' };
      }
      if (labels === undefined || labels.rank !== 2) return undefined;
      const c = labels.shape[1]!;
      const rows = task.kind === 'multiclass' ? 'class probabilities' : plural(c, 'label');
      return { units: c, why: `its labels are rows of ${c} ${rows}`, hint: '' };
    }
    case 'regression': {
      if (labels === undefined) return undefined;
      let k = 1;
      for (const d of labels.shape.slice(1)) k *= d;
      return { units: k, why: `the targets have ${k} value${k === 1 ? '' : 's'} per row`, hint: '' };
    }
  }
}

function plural(n: number, word: string): string {
  return n === 1 ? word : word === 'class' ? 'classes' : `${word}s`;
}

/**
 * Per label tensor read so far: the row of its largest id, and of the first value that is no class
 * id at all (not an integer, or below -1). A batch's labels are read once.
 */
const idSummaries = new WeakMap<tf.Tensor, { maxAt: number; badAt: number; values: ArrayLike<number> }>();

/**
 * Class ids outside [0, classes) other than -1 (abstain) would give a zero target row: silently no
 * loss. The labels are data (never on a gradient path), read once per batch on the host.
 */
function checkClassIds(task: Task, labels: tf.Tensor, classes: number, batch: Batch): void {
  let summary = idSummaries.get(labels);
  if (summary === undefined) {
    const values = labels.dataSync();
    summary = { maxAt: -1, badAt: -1, values };
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (summary.badAt < 0 && (!Number.isInteger(v) || v < -1)) summary.badAt = i;
      if (summary.maxAt < 0 || v > values[summary.maxAt]!) summary.maxAt = i;
    }
    idSummaries.set(labels, summary);
  }
  const { values, maxAt, badAt } = summary;
  const row = badAt >= 0 ? badAt : maxAt >= 0 && values[maxAt]! >= classes ? maxAt : -1;
  if (row < 0) return;
  const value = values[row]!;
  const at = batch.indices[row] ?? row;
  throw new MtlError(
    'LABEL_OUT_OF_RANGE',
    `label "${task.label}" is ${value} at row ${at} of dataset ${batch.dataset}/${batch.split}, outside the task's classes [0, ${classes}) (-1 = abstain)`,
    { place: `task ${task.name}`, details: { task: task.name, label: task.label, value, classes, row: at } },
  );
}

import { extname } from 'node:path';
import { listNames, MtlError } from '@mtl/core';
import { writeFileAtomic } from '@mtl/core/node';
import { applyPreprocessing, type DictDataset, type FieldColumnSpec, type FieldColumns } from '@mtl/data';
import { readCsv, readJsonl } from '@mtl/data/node';
import type { Predictions } from '@mtl/tasks';
import { stringify } from 'csv-stringify/sync';
import { readerField } from '../build/preprocess.js';
import { openRun } from './evaluate.js';

function tableKind(file: string, place: string): 'csv' | 'jsonl' {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  throw new MtlError('INVALID_ARGUMENT', `expected a .csv or .jsonl file, got "${file}"`, { place });
}

/**
 * The columns that hold a task's input fields: a file source's own mapping, otherwise `f` for a
 * scalar field and `f_0, f_1, ...` for a vector field (what @mtl/data's writeCsv writes); JSONL
 * keys are the field names.
 */
function inputMapping(
  inputs: readonly string[],
  train: DictDataset,
  sourceFields: Record<string, FieldColumns> | undefined,
  kind: 'csv' | 'jsonl',
): Record<string, FieldColumns> {
  const fields: Record<string, FieldColumns> = {};
  for (const f of inputs) {
    const base = f.endsWith('_mask') ? f.slice(0, -'_mask'.length) : undefined;
    const textOf = (name: string) => {
      const spec = sourceFields?.[name];
      return typeof spec === 'object' && !Array.isArray(spec) && (spec as FieldColumnSpec).kind === 'text';
    };
    // A text field's mask is made from its text, not read.
    if (base !== undefined && textOf(base)) {
      if (fields[base] === undefined) fields[base] = sourceFields![base]!;
      continue;
    }
    if (sourceFields?.[f] !== undefined) fields[f] = sourceFields[f]!;
    else if (kind === 'jsonl') fields[f] = f;
    else {
      const shape = train.fieldInfo(f).rowShape;
      const width = shape.reduce((a, b) => a * b, 1);
      fields[f] = shape.length === 0 ? f : Array.from({ length: width }, (_, j) => `${f}_${j}`);
    }
  }
  return fields;
}

/**
 * `mtl predict RUN_DIR --task NAME --input FILE --output FILE`: predictions of one task for every
 * row of a CSV/JSONL file (labels not needed). Writes `row, pred, prob_0, ...` (class kinds) or
 * `row, value_0, ...` (regression), as CSV or JSONL by the output's extension.
 */
export async function predict(args: {
  runDir: string;
  task: string;
  /** Required unless `sample` is given. */
  input?: string | undefined;
  output: string;
  backend?: string | undefined;
  /** A backend a browser page made active itself (the page runs this command on its files). */
  activeBackend?: string | undefined;
  /** VAE runs: write N draws from the prior (z, decoder mean, x) instead of predictions for `input`. */
  sample?: number | undefined;
}): Promise<number> {
  if ((args.input === undefined) === (args.sample === undefined)) {
    throw new MtlError('INVALID_ARGUMENT', 'give either --input FILE or --sample N', {
      place: 'mtl predict',
    });
  }
  const inKind = args.input === undefined ? 'csv' : tableKind(args.input, '--input');
  const outKind = tableKind(args.output, '--output');
  const opened = await openRun(args.runDir, args.backend, args.activeBackend);
  try {
    if (args.sample !== undefined) {
      if (opened.run.sample === undefined) {
        throw new MtlError('INVALID_ARGUMENT', `--sample needs a vae model; this run is ${opened.run.kind}`, {
          place: '--sample',
        });
      }
      if (!opened.run.taskNames.includes(args.task)) {
        throw new MtlError(
          'UNKNOWN_TASK',
          `unknown task "${args.task}" (known: ${listNames(opened.run.taskNames)})`,
          { place: '--task' },
        );
      }
      const drawn = await opened.run.sample(args.task, args.sample, opened.rng.childSeed('sample'));
      return await writePredictions(args.output, outKind, drawn, 'value');
    }
    const data = opened.taskData[args.task];
    if (data === undefined) {
      throw new MtlError(
        'UNKNOWN_TASK',
        `unknown task "${args.task}" (known: ${listNames(opened.run.taskNames)})`,
        {
          place: '--task',
        },
      );
    }
    const source = opened.loaded.config.data[data.source]!;
    const sourceFields =
      source.kind === 'csv' || source.kind === 'jsonl'
        ? Object.fromEntries(Object.entries(source.fields).map(([f, c]) => [f, readerField(c)]))
        : undefined;
    const fields = inputMapping(data.inputs, data.splits.train!, sourceFields, inKind);
    const options = { name: 'input', split: 'predict', fields, labels: {} };
    const input = args.input!;
    const raw = inKind === 'csv' ? await readCsv(input, options) : await readJsonl(input, options);
    // The train split's scalers and vocabularies, as saved with the model.
    const fitted = opened.preprocessing[data.source]?.[data.datasetName];
    const dataset = fitted === undefined ? raw : applyPreprocessing(raw, fitted);
    // A slice-aware task's indicator and predictor tasks are classifiers with no config entry.
    const task = opened.loaded.config.tasks[args.task] ?? { kind: 'multiclass' };
    const predictions = await opened.run.predict(args.task, dataset);
    return await writePredictions(
      args.output,
      outKind,
      predictions,
      task.kind === 'regression' ? 'value' : 'prob',
    );
  } finally {
    opened.run.dispose();
  }
}

/**
 * Parses `--sample N` (a positive integer), for main.ts.
 * @example
 * parseSampleCount('10'); // 10
 */
export function parseSampleCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new MtlError('INVALID_ARGUMENT', `--sample must be an integer from 1 to 1000000, got "${value}"`, {
      place: 'mtl predict',
    });
  }
  return n;
}

async function writePredictions(
  output: string,
  outKind: 'csv' | 'jsonl',
  { probs, preds, columns }: Predictions,
  valueName: string,
): Promise<number> {
  const width = probs[0]?.length ?? 0;
  const rows = probs.map((p, i) => {
    const row: Record<string, number | number[]> = { row: i };
    if (preds !== undefined) {
      const pred = preds[i]!;
      row.pred = typeof pred === 'number' ? pred : Array.from(pred);
    }
    for (let c = 0; c < width; c++) row[columns?.[c] ?? `${valueName}_${c}`] = p[c]!;
    return row;
  });
  const text =
    outKind === 'jsonl'
      ? rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '')
      : stringify(
          // A multi-label prediction (a list) becomes one space-separated cell.
          rows.map((r) => (Array.isArray(r.pred) ? { ...r, pred: r.pred.join(' ') } : r)),
          {
            header: true,
          },
        );
  await writeFileAtomic(output, text);
  return rows.length;
}

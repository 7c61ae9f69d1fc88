import { dirname, isAbsolute, resolve } from 'node:path';
import { listNames, MtlError, type RandomStream, scoreKey } from '@mtl/core';
import {
  type DictDataset,
  type ImageSet,
  makeFashionDomains,
  makeLogisticTasks,
  makeMmoeSynthetic,
  makeMultiFashion,
  makeToyDatasets,
  type ReadTableOptions,
  splitDataset,
} from '@mtl/data';
import { FASHION_MNIST_DIR, readCsv, readFashionMnist, readJsonl } from '@mtl/data/node';
import type { SplitDatasets, TaskData } from '@mtl/tasks';
import type { z } from 'zod';
import type { dataSourceSchema } from '../config/schema.js';
import { readerField } from './preprocess.js';

type SourceConfig = z.infer<typeof dataSourceSchema>;

// A source has one or several groups of datasets by split; a task reads one (@mtl/tasks' types).
export type { SplitDatasets, TaskData };

export interface LoadedSource {
  name: string;
  groups: SplitDatasets[];
  /** Extra facts a report may show (e.g. the true weights of generated logistic tasks). */
  truth?: Record<string, unknown>;
}

/** Paths in a config are relative to the config file, never to the working directory. */
export function resolveConfigPath(configFile: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(resolve(configFile)), path);
}

/** Label specs without the keys zod leaves undefined (the readers' options are exact). */
function labelSpecs(labels: Record<string, string | Record<string, unknown>>): ReadTableOptions['labels'] {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)),
    ]),
  ) as ReadTableOptions['labels'];
}

async function readTable(
  kind: 'csv' | 'jsonl',
  file: string,
  options: ReadTableOptions & { delimiter?: string },
): Promise<DictDataset> {
  return kind === 'csv' ? readCsv(file, options) : readJsonl(file, options);
}

/** Fashion-MNIST's train and test items from `dir` (relative to the config file; default Debian's folder). */
async function fashionMnist(
  dir: string | undefined,
  configFile: string,
): Promise<{ train: ImageSet; test: ImageSet }> {
  const folder = dir === undefined ? FASHION_MNIST_DIR : resolveConfigPath(configFile, dir);
  return {
    train: await readFashionMnist('train', { dir: folder }),
    test: await readFashionMnist('test', { dir: folder }),
  };
}

/**
 * Loads one data source as datasets per split. Errors name the source (`data.NAME`) and, from
 * the readers, the file, line and column.
 */
export async function loadSource(
  sourceName: string,
  config: SourceConfig,
  configFile: string,
  rng: RandomStream,
): Promise<LoadedSource> {
  const seed = config.seed ?? rng.childSeed(`data/${sourceName}`);
  const place = `data.${sourceName}`;
  try {
    switch (config.kind) {
      case 'circle':
      case 'square':
      case 'inv_circle': {
        const opts = {
          n: config.n,
          radius: config.radius,
          ratios: config.splits,
          datasetName: sourceName,
          ...(config.field === undefined ? {} : { field: config.field }),
          ...(config.label === undefined ? {} : { label: config.label }),
        };
        return { name: sourceName, groups: [makeToyDatasets(config.kind, opts, seed)] };
      }
      case 'logistic_tasks': {
        const tasks = makeLogisticTasks(
          {
            tasks: config.tasks,
            sizes: config.sizes,
            dim: config.dim,
            testRatio: config.testRatio,
            inputScale: config.inputScale,
            linkNoise: config.linkNoise,
            weightScale: config.weightScale,
            field: config.field,
            ...(config.taskNames === undefined ? {} : { taskNames: config.taskNames }),
          },
          seed,
        );
        return {
          name: sourceName,
          groups: tasks.map((t) => ({ train: t.train, test: t.test })),
          truth: Object.fromEntries(
            tasks.map((t) => [
              t.name,
              {
                w: Array.from(t.w),
                linkedTo: t.linkedTo,
                ceiling: {
                  [scoreKey(t.name, t.train.name, 'train', 'accuracy')]: trueWeightAccuracy(
                    t.train,
                    t.w,
                    t.name,
                    config.field,
                  ),
                  [scoreKey(t.name, t.test.name, 'test', 'accuracy')]: trueWeightAccuracy(
                    t.test,
                    t.w,
                    t.name,
                    config.field,
                  ),
                },
              },
            ]),
          ),
        };
      }
      case 'mmoe_synthetic': {
        const { splits } = makeMmoeSynthetic(
          {
            n: config.n,
            correlation: config.correlation,
            dim: config.dim,
            scale: config.weightScale,
            sines: config.sines,
            ...(config.alphas !== undefined && { alphas: config.alphas }),
            ...(config.betas !== undefined && { betas: config.betas }),
            noiseVariance: config.noiseVariance,
            ratios: config.splits,
            field: config.field,
            labels: config.labels,
            datasetName: sourceName,
          },
          seed,
        );
        return { name: sourceName, groups: [splits] };
      }
      case 'multifashion': {
        const source = await fashionMnist(config.dir, configFile);
        const splits = makeMultiFashion(
          source,
          {
            train: config.train,
            valid: config.valid,
            test: config.test,
            size: config.size,
            shift: config.shift,
            validShare: config.validShare,
            field: config.field,
            datasetName: sourceName,
          },
          seed,
        );
        return { name: sourceName, groups: [splits] };
      }
      case 'fashion_domains': {
        const source = await fashionMnist(config.dir, configFile);
        const domains = makeFashionDomains(
          source,
          {
            perClass: config.perClass,
            validPerClass: config.validPerClass,
            testPerClass: config.testPerClass,
            size: config.size,
            noise: config.noise,
            field: config.field,
            ...(config.domains === undefined ? {} : { domains: config.domains }),
          },
          seed,
        );
        return {
          name: sourceName,
          groups: domains.map((d) => ({
            train: d.train,
            ...(d.valid ? { valid: d.valid } : {}),
            test: d.test,
          })),
        };
      }
      case 'csv':
      case 'jsonl': {
        const base: ReadTableOptions & { delimiter?: string } = {
          name: sourceName,
          fields: Object.fromEntries(Object.entries(config.fields).map(([f, c]) => [f, readerField(c)])),
          labels: labelSpecs(config.labels) ?? {},
          ...(config.kind === 'csv' && typeof config.delimiter === 'string'
            ? { delimiter: config.delimiter }
            : {}),
        };
        if (config.files !== undefined) {
          const group: SplitDatasets = {};
          for (const [split, file] of Object.entries(config.files)) {
            group[split] = await readTable(config.kind, resolveConfigPath(configFile, file), {
              ...base,
              split,
            });
          }
          return { name: sourceName, groups: [group] };
        }
        const all = await readTable(config.kind, resolveConfigPath(configFile, config.path!), {
          ...base,
          split: 'all',
        });
        return {
          name: sourceName,
          groups: [splitDataset(all, config.splits ?? { train: 0.8, valid: 0.1, test: 0.1 }, seed)],
        };
      }
    }
  } catch (e) {
    if (e instanceof MtlError) {
      const field = (e.details as { field?: unknown } | undefined)?.field;
      if (typeof field === 'string' && e.code === 'CSV_MISSING_COLUMN')
        throw e.within(`${place}.fields.${field}`);
      throw e.place?.startsWith(place) ? e : e.within(place);
    }
    throw e;
  }
}

/**
 * Picks a task's dataset group, input fields and label from its source: the label defaults to the
 * one named like the task, else the source's only label; the input to the source's only field.
 */
export function resolveTaskData(
  taskName: string,
  task: { data: string; input?: string | string[] | undefined; label?: string | undefined },
  sources: Record<string, LoadedSource>,
): TaskData {
  const place = `tasks.${taskName}`;
  const source = sources[task.data];
  if (source === undefined) {
    throw new MtlError(
      'UNKNOWN_DATASET',
      `unknown data source "${task.data}" (known: ${listNames(Object.keys(sources))})`,
      {
        place: `${place}.data`,
      },
    );
  }
  const sample = (g: SplitDatasets) => Object.values(g)[0]!;
  const allLabels = [...new Set(source.groups.flatMap((g) => sample(g).labelNames))];
  let label = task.label;
  if (label === undefined) {
    if (allLabels.includes(taskName)) label = taskName;
    else if (allLabels.length === 1) label = allLabels[0]!;
    else {
      throw new MtlError(
        'CONFIG_INVALID',
        `source "${task.data}" has labels ${listNames(allLabels)}: say which with "label"`,
        { place: `${place}.label` },
      );
    }
  }
  const group = source.groups.find((g) => sample(g).hasLabel(label));
  if (group === undefined) {
    throw new MtlError(
      'UNKNOWN_FIELD',
      `source "${task.data}" has no label "${label}" (known: ${listNames(allLabels)})`,
      {
        place: `${place}.label`,
      },
    );
  }
  const fields = sample(group).fieldNames;
  let inputs: string[];
  if (task.input === undefined) {
    const real = fields.filter((f) => !f.endsWith('_mask'));
    if (real.length !== 1) {
      throw new MtlError(
        'CONFIG_INVALID',
        `source "${task.data}" has fields ${listNames(real)}: say which with "input"`,
        {
          place: `${place}.input`,
        },
      );
    }
    inputs = real;
  } else {
    inputs = Array.isArray(task.input) ? task.input : [task.input];
    inputs.forEach((f, i) => {
      if (!fields.includes(f)) {
        throw new MtlError(
          'UNKNOWN_FIELD',
          `source "${task.data}" has no field "${f}" (known: ${listNames(fields)})`,
          {
            place: Array.isArray(task.input) ? `${place}.input[${i}]` : `${place}.input`,
          },
        );
      }
    });
  }
  return { source: task.data, datasetName: sample(group).name, splits: group, inputs, label };
}

/**
 * The data ceiling of a generated logistic task: the accuracy of predicting 1 where x·w > 0 with
 * its true weights w (the labels are Bernoulli draws, so even w misses some).
 */
export function trueWeightAccuracy(
  ds: DictDataset,
  w: ArrayLike<number>,
  label: string,
  field: string,
): number {
  const x = ds.fieldValues(field);
  const y = ds.labelValues(label);
  const D = w.length;
  let hits = 0;
  for (let r = 0; r < ds.length; r++) {
    let dot = 0;
    for (let j = 0; j < D; j++) dot += x[r * D + j]! * w[j]!;
    if ((dot > 0 ? 1 : 0) === y[r]) hits++;
  }
  return hits / ds.length;
}

/**
 * The data ceilings the sources know (score key → the true weights' score), e.g. the generated
 * logistic tasks': what a perfect model of each task reaches, shown beside the scores.
 */
export function dataCeilings(sources: Readonly<Record<string, LoadedSource>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const source of Object.values(sources)) {
    for (const fact of Object.values(source.truth ?? {})) {
      const ceiling = (fact as { ceiling?: Record<string, number> } | null)?.ceiling;
      if (ceiling !== undefined) Object.assign(out, ceiling);
    }
  }
  return out;
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checksummedJson, listNames, MtlError } from '@mtl/core';
import { readChecksummedJson, writeFileAtomic } from '@mtl/core/node';
import {
  applyPreprocessing,
  checkFittedPreprocessing,
  type FieldColumns,
  type FieldKind,
  type FieldPreprocessing,
  type FittedPreprocessing,
  fitPreprocessing,
  type PreprocessingSpec,
  type ScaleMethod,
} from '@mtl/data';
import type { z } from 'zod';
import type { dataSourceSchema } from '../config/schema.js';
import type { LoadedSource } from './data.js';

type SourceConfig = z.infer<typeof dataSourceSchema>;
/** A `fields` entry of a csv / jsonl source, as the schema parses it. */
type FieldConfig =
  | string
  | string[]
  | {
      column?: string | string[] | undefined;
      prefix?: string | undefined;
      kind?: FieldKind | undefined;
      lowercase?: boolean | undefined;
      minCount?: number | undefined;
      maxSize?: number | undefined;
      maxLength?: number | undefined;
    };

/** The file in a run's model folder that holds the fitted preprocessing. */
export const PREPROCESSING_FILE = 'preprocessing.json';
const FORMAT = 'mtl-run-preprocessing';

/** Fitted preprocessing of a run: per source, per dataset name (a source may hold several datasets). */
export type RunPreprocessing = Record<string, Record<string, FittedPreprocessing>>;

/** A field of the config as the readers take it (vocabulary options are the preprocessing's). */
export function readerField(field: FieldConfig): FieldColumns {
  if (typeof field === 'string' || Array.isArray(field)) return field;
  const { minCount: _c, maxSize: _s, maxLength: _l, ...reader } = field;
  return Object.fromEntries(Object.entries(reader).filter(([, v]) => v !== undefined)) as FieldColumns;
}

/** What a source asks to fit: `scale` entries (fields or labels) and vocabulary options of categorical / text fields. */
function sourceSpec(config: SourceConfig, source: LoadedSource, place: string): PreprocessingSpec | null {
  const fields: Record<string, FieldPreprocessing> = {};
  const labels: Record<string, ScaleMethod> = {};
  if (config.kind === 'csv' || config.kind === 'jsonl') {
    for (const [f, spec] of Object.entries(config.fields)) {
      if (
        typeof spec === 'object' &&
        !Array.isArray(spec) &&
        (spec.kind === 'categorical' || spec.kind === 'text')
      ) {
        fields[f] = Object.fromEntries(
          Object.entries({
            kind: spec.kind,
            minCount: spec.minCount,
            maxSize: spec.maxSize,
            maxLength: spec.maxLength,
          }).filter(([, v]) => v !== undefined),
        ) as unknown as FieldPreprocessing;
      }
    }
  }
  const scale = config.scale ?? {};
  const sample = Object.values(source.groups[0] ?? {})[0];
  for (const [key, method] of Object.entries(scale)) {
    const group = source.groups.find((g) => {
      const ds = Object.values(g)[0]!;
      return ds.hasField(key) || ds.hasLabel(key);
    });
    if (group === undefined) {
      const fieldNames = sample?.fieldNames ?? [];
      const labelNames = [...new Set(source.groups.flatMap((g) => Object.values(g)[0]!.labelNames))];
      throw new MtlError(
        'UNKNOWN_FIELD',
        `no field or label "${key}" to scale (fields: ${listNames(fieldNames)}; labels: ${listNames(labelNames)})`,
        { place: `${place}.scale.${key}` },
      );
    }
    const ds = Object.values(group)[0]!;
    if (ds.hasField(key)) {
      if (fields[key] !== undefined) {
        throw new MtlError(
          'CONFIG_INVALID',
          `field "${key}" is ${(fields[key] as { kind: string }).kind}: it cannot be scaled`,
          {
            place: `${place}.scale.${key}`,
          },
        );
      }
      fields[key] = method;
    } else {
      const info = ds.labelInfo(key);
      if (info.kind !== 'regression') {
        throw new MtlError(
          'CONFIG_INVALID',
          `label "${key}" is ${info.kind}: only regression labels are scaled`,
          {
            place: `${place}.scale.${key}`,
          },
        );
      }
      labels[key] = method;
    }
  }
  const hasDictionary = source.groups.some((g) =>
    Object.values(g).some((ds) => ds.fieldNames.some((f) => ds.fieldDictionary(f) !== undefined)),
  );
  if (Object.keys(fields).length === 0 && Object.keys(labels).length === 0 && !hasDictionary) return null;
  return { fields, labels };
}

/**
 * Fits each dataset group's preprocessing on its train split (or takes the saved one) and applies
 * it to every split, in place of the raw datasets. Sources that ask for nothing are left as they
 * are. Errors name the config path (`data.NAME.scale.KEY`, `data.NAME.fields.KEY`).
 */
export function preprocessSource(
  name: string,
  config: SourceConfig,
  source: LoadedSource,
  saved: Record<string, FittedPreprocessing> | undefined,
): Record<string, FittedPreprocessing> | undefined {
  const place = `data.${name}`;
  const spec = sourceSpec(config, source, place);
  if (spec === null) return undefined;
  const out: Record<string, FittedPreprocessing> = {};
  for (const group of source.groups) {
    const train = group.train;
    const dsName = Object.values(group)[0]!.name;
    if (train === undefined) {
      throw new MtlError(
        'UNKNOWN_DATASET',
        `preprocessing is fitted on the train split, and this source has none (splits: ${listNames(Object.keys(group))})`,
        { place },
      );
    }
    let fitted = saved?.[dsName];
    if (fitted === undefined) {
      try {
        // Only the names this dataset has: a logistic_tasks source holds one dataset per task.
        fitted = fitPreprocessing(train, {
          fields: Object.fromEntries(Object.entries(spec.fields ?? {}).filter(([f]) => train.hasField(f))),
          labels: Object.fromEntries(Object.entries(spec.labels ?? {}).filter(([l]) => train.hasLabel(l))),
        });
      } catch (e) {
        if (!(e instanceof MtlError)) throw e;
        // fitPreprocessing names `fields.F` / `labels.L`; the config's path is `scale.KEY` for a
        // scaling and `fields.F` for a categorical / text field's options.
        const key = /(fields|labels)\.([^ ]+)$/.exec(e.place ?? '');
        const scaled = key !== null && (key[1] === 'labels' || typeof spec.fields?.[key[2]!] === 'string');
        throw new MtlError(e.code, e.reason, {
          place: key === null ? place : `${place}.${scaled ? 'scale' : 'fields'}.${key[2]}`,
          cause: e,
        });
      }
    }
    out[dsName] = fitted;
    for (const split of Object.keys(group)) group[split] = applyPreprocessing(group[split]!, fitted);
  }
  return out;
}

/**
 * The text of a run's preprocessing.json (checksummed JSON, like the model), or `undefined` when
 * nothing was fitted (the run has no such file). A page offers it beside its model download.
 * @example
 * const text = preprocessingFileText(prepared.preprocessing); // undefined: nothing scaled
 */
export function preprocessingFileText(preprocessing: RunPreprocessing): string | undefined {
  if (Object.keys(preprocessing).length === 0) return undefined;
  return checksummedJson({ format: FORMAT, version: 1, sources: preprocessing });
}

/** Writes a run's fitted preprocessing into its model folder (checksummed JSON, like the model). */
export async function savePreprocessing(dir: string, preprocessing: RunPreprocessing): Promise<void> {
  const text = preprocessingFileText(preprocessing);
  if (text !== undefined) await writeFileAtomic(join(dir, PREPROCESSING_FILE), text);
}

/** Reads the fitted preprocessing of a model folder; `undefined` when the run has none (nothing was fitted). */
export function readPreprocessing(dir: string): RunPreprocessing | undefined {
  const file = join(dir, PREPROCESSING_FILE);
  if (!existsSync(file)) return undefined;
  const saved = readChecksummedJson(file) as { format?: string; version?: number; sources?: unknown };
  if (
    saved?.format !== FORMAT ||
    saved.version !== 1 ||
    typeof saved.sources !== 'object' ||
    saved.sources === null
  ) {
    throw new MtlError(
      'CHECKPOINT_CORRUPT',
      `not a run's preprocessing file (format "${String(saved?.format)}")`,
      {
        place: file,
      },
    );
  }
  const out: RunPreprocessing = {};
  for (const [source, byDataset] of Object.entries(saved.sources as Record<string, unknown>)) {
    out[source] = {};
    for (const [ds, fitted] of Object.entries(byDataset as Record<string, unknown>)) {
      out[source]![ds] = checkFittedPreprocessing(fitted, `${file} ${source}/${ds}`);
    }
  }
  return out;
}

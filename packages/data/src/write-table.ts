import { MtlError } from '@mtl/core';
import { writeFileAtomic } from '@mtl/core/node';
import type { ColumnMapping, LabelColumnSpec } from './column-mapping.js';
import type { DictDataset } from './dict-dataset.js';
import { formatFloat32 } from './format-float32.js';

/**
 * Options of {@link writeCsv} and {@link writeJsonl}.
 * @example
 * await writeCsv(ds, 'out.csv', { classes: { colour: ['red', 'green'] } });
 */
export interface WriteTableOptions {
  /** Class names per class label: ids are written as these names (and read back through them). */
  classes?: Readonly<Record<string, readonly string[]>>;
}

function csvText(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

interface Out {
  name: string;
  values: Float32Array | Int32Array;
  width: number;
  /** Column names (CSV) for a vector row; `null` for a scalar row. */
  columns: string[] | null;
  classes?: readonly string[] | undefined;
  isClass: boolean;
}

function columnsOf(name: string, width: number, scalar: boolean): string[] | null {
  return scalar ? null : Array.from({ length: width }, (_, j) => `${name}_${j}`);
}

function plan(
  dataset: DictDataset,
  options: WriteTableOptions,
  csv: boolean,
): { fields: Out[]; labels: Out[]; mapping: ColumnMapping } {
  const place = `${csv ? 'writeCsv' : 'writeJsonl'} ${dataset.name}/${dataset.split}`;
  const fields: Out[] = [];
  const mappingFields: Record<string, string | string[]> = {};
  for (const name of dataset.fieldNames) {
    const info = dataset.fieldInfo(name);
    if (info.ragged && csv) {
      throw new MtlError(
        'DATA_INVALID',
        `field "${name}" has rows of different lengths, which CSV cannot hold; use JSONL`,
        {
          place,
        },
      );
    }
    const width = info.rowShape.reduce((a, b) => a * b, 1);
    const scalar = info.rowShape.length === 0;
    const columns = columnsOf(name, width, scalar);
    fields.push({ name, values: dataset.fieldValues(name), width, columns, isClass: false });
    mappingFields[name] = csv && columns !== null ? columns : name;
  }
  const labels: Out[] = [];
  const mappingLabels: Record<string, LabelColumnSpec> = {};
  for (const name of dataset.labelNames) {
    const info = dataset.labelInfo(name);
    const width = info.rowShape.reduce((a, b) => a * b, 1);
    const scalar = info.rowShape.length === 0;
    const columns = columnsOf(name, width, scalar);
    const classes = options.classes?.[name];
    const isClass = info.kind === 'class';
    if (classes !== undefined && !isClass) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `classes given for label "${name}", which is not a class label`,
        { place },
      );
    }
    labels.push({ name, values: dataset.labelValues(name), width, columns, classes, isClass });
    const spec: LabelColumnSpec = { column: csv && columns !== null ? columns : name, kind: info.kind };
    if (classes !== undefined) spec.classes = classes;
    if (info.numClasses !== undefined) spec.numClasses = info.numClasses;
    mappingLabels[name] = spec;
  }
  if (csv) {
    const seen = new Set<string>();
    for (const o of [...fields, ...labels]) {
      for (const c of o.columns ?? [o.name]) {
        if (seen.has(c))
          throw new MtlError('DUPLICATE_NAME', `two values would share the CSV column "${c}"`, { place });
        seen.add(c);
      }
    }
  }
  return { fields, labels, mapping: { fields: mappingFields, labels: mappingLabels } };
}

function classText(o: Out, id: number, place: string, row: number): string {
  if (id === -1) return '';
  if (o.classes === undefined) return String(id);
  const name = o.classes[id];
  if (name === undefined) {
    throw new MtlError(
      'LABEL_OUT_OF_RANGE',
      `label "${o.name}" row ${row} is ${id}, beyond its ${o.classes.length} class names`,
      {
        place,
      },
    );
  }
  return name;
}

/**
 * Writes a dataset as CSV (header + one line per row, written atomically) and returns the
 * {@link ColumnMapping} that reads it back with {@link readCsv}. A vector field `f` becomes columns
 * `f_0, f_1, ...` (rows of higher rank are flattened); abstained class labels are empty cells.
 * Numbers are written in the shortest text that reads back as the same float32.
 * @example
 * const mapping = await writeCsv(ds, 'out/circle.csv');
 * const back = await readCsv('out/circle.csv', { ...mapping, name: ds.name, split: ds.split });
 */
export async function writeCsv(
  dataset: DictDataset,
  file: string,
  options: WriteTableOptions = {},
): Promise<ColumnMapping> {
  const { fields, labels, mapping } = plan(dataset, options, true);
  const all = [...fields, ...labels];
  const parts: string[] = [
    all
      .flatMap((o) => o.columns ?? [o.name])
      .map(csvText)
      .join(','),
  ];
  const cells: string[] = [];
  for (let r = 0; r < dataset.length; r++) {
    cells.length = 0;
    for (const o of all) {
      for (let j = 0; j < o.width; j++) {
        const v = o.values[r * o.width + j]!;
        cells.push(o.isClass ? csvText(classText(o, v, file, r)) : formatFloat32(v));
      }
    }
    parts.push(cells.join(','));
  }
  await writeFileAtomic(file, `${parts.join('\n')}\n`);
  return mapping;
}

/**
 * Writes a dataset as JSON Lines (one object per row, written atomically) and returns the
 * {@link ColumnMapping} that reads it back with {@link readJsonl}. Ragged fields are arrays of
 * their own lengths; abstained class labels are `null`.
 * @example
 * const mapping = await writeJsonl(ds, 'out/circle.jsonl');
 * const back = await readJsonl('out/circle.jsonl', { ...mapping, name: ds.name, split: ds.split });
 */
export async function writeJsonl(
  dataset: DictDataset,
  file: string,
  options: WriteTableOptions = {},
): Promise<ColumnMapping> {
  const { fields, labels, mapping } = plan(dataset, options, false);
  const keys = new Map([...fields, ...labels].map((o) => [o, JSON.stringify(o.name)]));
  const parts: string[] = [];
  for (let r = 0; r < dataset.length; r++) {
    const members: string[] = [];
    for (const o of fields) {
      const offsets = dataset.fieldOffsets(o.name);
      const [start, end] =
        offsets === null ? [r * o.width, (r + 1) * o.width] : [offsets[r]!, offsets[r + 1]!];
      const row = Array.from(o.values.subarray(start, end), formatFloat32);
      members.push(
        `${keys.get(o)}:${o.columns === null && offsets === null ? row[0] : `[${row.join(',')}]`}`,
      );
    }
    for (const o of labels) {
      let text: string;
      if (o.isClass) {
        const id = o.values[r]!;
        text =
          id === -1
            ? 'null'
            : o.classes === undefined
              ? String(id)
              : JSON.stringify(classText(o, id, file, r));
      } else {
        const row = Array.from(o.values.subarray(r * o.width, (r + 1) * o.width), formatFloat32);
        text = o.columns === null ? row[0]! : `[${row.join(',')}]`;
      }
      members.push(`${keys.get(o)}:${text}`);
    }
    parts.push(`{${members.join(',')}}`);
  }
  await writeFileAtomic(file, parts.length === 0 ? '' : `${parts.join('\n')}\n`);
  return mapping;
}

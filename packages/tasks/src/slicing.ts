import { listNames, MtlError } from '@mtl/core';
import type { DictDataset } from '@mtl/data';
import { z } from 'zod';

/**
 * A slicing function written as data (Snorkel's slicing functions are Python callables; a config
 * cannot hold code). A **test** reads one value per row and compares it:
 * - `field: F` (an input field of the dataset) or `label: L` (a label column);
 * - `index: i` for a row of several values (a vector field, a soft or multi-label row), or
 *   `length: true` for the number of items in a variable-length (ragged) field's row;
 * - one or more comparisons, all of which must hold: `lt`, `le`, `gt`, `ge` (numbers), `eq`, `ne`
 *   (a number, or a string of a categorical field's dictionary), `in` (a list of those).
 *
 * Tests combine with `all: [...]`, `any: [...]` and `not: {...}`. A NaN value is in no test's slice.
 * @example
 * const short: SliceCondition = { field: 'tokens', length: true, lt: 5 };
 * const corner: SliceCondition = { all: [{ field: 'x', index: 0, gt: 0.5 }, { field: 'x', index: 1, gt: 0.5 }] };
 * const notRed: SliceCondition = { not: { field: 'colour', in: ['red', 'crimson'] } };
 */
export interface SliceCondition {
  field?: string | undefined;
  label?: string | undefined;
  index?: number | undefined;
  length?: true | undefined;
  lt?: number | undefined;
  le?: number | undefined;
  gt?: number | undefined;
  ge?: number | undefined;
  eq?: number | string | undefined;
  ne?: number | string | undefined;
  in?: (number | string)[] | undefined;
  all?: SliceCondition[] | undefined;
  any?: SliceCondition[] | undefined;
  not?: SliceCondition | undefined;
}

const SOURCES = ['field', 'label'] as const;
const COMBINATORS = ['all', 'any', 'not'] as const;
const COMPARISONS = ['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'in'] as const;

/** Slice names become parts of score keys (`slice:<name>:<metric>`) and of task and module names. */
export const sliceNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_-]*$/,
    'a slice name has letters, digits, "_" or "-" and starts with a letter or "_"',
  )
  .max(100)
  .refine((n) => n !== 'base', {
    error: '"base" is the slice of every row, made by the slice-aware model itself',
  });

const finite = z.number().finite();
const value = z.union([finite, z.string().min(1)]);

/**
 * The zod schema of one {@link SliceCondition}: one strict object whose rules are checked
 * together, so that a mistake is reported at its own key (`...slices.short.lt: ...`) with one
 * message rather than as a failed union.
 * @example
 * sliceConditionSchema.parse({ field: 'length', lt: 5 });
 * sliceConditionSchema.safeParse({ field: 'length' }).success; // false: no comparison
 */
export const sliceConditionSchema: z.ZodType<SliceCondition> = z.lazy(() =>
  z
    .strictObject({
      field: z.string().min(1).optional().describe('An input field of the dataset whose value is tested.'),
      label: z.string().min(1).optional().describe('A label of the dataset whose value is tested.'),
      index: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Which value of a row of several values (a vector field) is tested; 0-based.'),
      length: z
        .literal(true)
        .optional()
        .describe("Test the number of items of a variable-length field's row instead of a value."),
      lt: finite.optional().describe('The value is < this.'),
      le: finite.optional().describe('The value is <= this.'),
      gt: finite.optional().describe('The value is > this.'),
      ge: finite.optional().describe('The value is >= this.'),
      eq: value
        .optional()
        .describe("The value equals this (a number, or a string of a categorical field's dictionary)."),
      ne: value.optional().describe('The value differs from this.'),
      in: z.array(value).min(1).optional().describe('The value is one of these.'),
      all: z.array(sliceConditionSchema).min(1).optional().describe('Every condition of the list holds.'),
      any: z
        .array(sliceConditionSchema)
        .min(1)
        .optional()
        .describe('At least one condition of the list holds.'),
      not: sliceConditionSchema.optional().describe('The condition does not hold.'),
    })
    .check((ctx) => {
      const c = ctx.value as Record<string, unknown>;
      const has = (k: string) => c[k] !== undefined;
      const issue = (message: string, key?: string) =>
        ctx.issues.push({
          code: 'custom',
          message,
          input: ctx.value,
          ...(key === undefined ? {} : { path: [key] }),
        });
      const heads = [...SOURCES, ...COMBINATORS].filter(has);
      if (heads.length !== 1) {
        issue(
          heads.length === 0
            ? 'a slice condition needs one of "field", "label" (a test) or "all", "any", "not" (a combination)'
            : `a slice condition has one of "field", "label", "all", "any", "not", not several (${listNames(heads)})`,
        );
        return;
      }
      const comparisons = COMPARISONS.filter(has);
      if ((COMBINATORS as readonly string[]).includes(heads[0]!)) {
        for (const k of [...comparisons, 'index', 'length'].filter(has)) {
          issue(`"${k}" belongs to a test ("field" or "label"), not to "${heads[0]}"`, k);
        }
        return;
      }
      if (comparisons.length === 0) {
        issue(`a test needs a comparison: one or more of ${listNames(COMPARISONS)}`);
      }
      if (has('index') && has('length')) issue('"index" and "length" exclude each other', 'length');
      if (has('length') && has('label'))
        issue('"length" tests a variable-length field, not a label', 'length');
    }),
);

/**
 * Named slicing functions (`slice name -> condition`), as a config's `slices` block holds them.
 * @example
 * slicesSchema.parse({ short: { field: 'length', lt: 5 }, long: { field: 'length', ge: 20 } });
 */
export const slicesSchema = z.record(z.string(), sliceConditionSchema).check((ctx) => {
  const names = Object.keys(ctx.value);
  if (names.length === 0)
    ctx.issues.push({ code: 'custom', message: 'declare at least one slice', input: ctx.value });
  for (const name of names) {
    const r = sliceNameSchema.safeParse(name);
    if (!r.success)
      ctx.issues.push({ code: 'custom', message: r.error.issues[0]!.message, input: name, path: [name] });
  }
});

/**
 * Named row masks of one dataset: `1` where the row is in the slice.
 * @example
 * const masks: SliceRowMasks = { short: Uint8Array.from([1, 0, 1]) };
 */
export type SliceRowMasks = Record<string, Uint8Array>;

/**
 * The rows of a dataset a slicing function selects: `1` in the slice, `0` outside. Checks the
 * condition against the dataset too: an unknown field or label is UNKNOWN_FIELD, an `index` the
 * rows do not have, a vector value without `index`, `length` of a fixed-length field, or a string
 * compared with a field that has no dictionary is CONFIG_INVALID; each error's place is the
 * condition's path under `place` (e.g. `tasks.y.slices.short.all[1].index`).
 * @example
 * const ds = new DictDataset('d', 'train', { length: [3, 12, 4] });
 * evaluateSlice(ds, { field: 'length', lt: 5 }); // Uint8Array [1, 0, 1]
 */
export function evaluateSlice(ds: DictDataset, condition: SliceCondition, place = 'slice'): Uint8Array {
  const parsed = sliceConditionSchema.safeParse(condition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new MtlError('CONFIG_INVALID', issue.message, { place: `${place}${path}` });
  }
  return evaluate(ds, parsed.data, place);
}

function evaluate(ds: DictDataset, c: SliceCondition, place: string): Uint8Array {
  if (c.all !== undefined) {
    const out = new Uint8Array(ds.length).fill(1);
    c.all.forEach((sub, i) => {
      const m = evaluate(ds, sub, `${place}.all[${i}]`);
      for (let r = 0; r < out.length; r++) out[r] = out[r]! & m[r]!;
    });
    return out;
  }
  if (c.any !== undefined) {
    const out = new Uint8Array(ds.length);
    c.any.forEach((sub, i) => {
      const m = evaluate(ds, sub, `${place}.any[${i}]`);
      for (let r = 0; r < out.length; r++) out[r] = out[r]! | m[r]!;
    });
    return out;
  }
  if (c.not !== undefined) {
    const m = evaluate(ds, c.not, `${place}.not`);
    return m.map((v) => 1 - v);
  }
  return evaluateTest(ds, c, place);
}

/** One value per row of the test's field or label (NaN where a row has none). */
function rowValues(ds: DictDataset, t: SliceCondition, place: string): Float64Array {
  const out = new Float64Array(ds.length);
  if (t.label !== undefined) {
    if (!ds.hasLabel(t.label)) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `dataset ${ds.name}/${ds.split} has no label "${t.label}" (labels: ${listNames(ds.labelNames)})`,
        { place: `${place}.label` },
      );
    }
    const width = ds.labelInfo(t.label).rowShape.reduce((a, b) => a * b, 1);
    return pickColumn(ds.labelValues(t.label), width, t.index, ds.length, `label "${t.label}"`, place);
  }
  const field = t.field!;
  if (!ds.hasField(field)) {
    throw new MtlError(
      'UNKNOWN_FIELD',
      `dataset ${ds.name}/${ds.split} has no field "${field}" (fields: ${listNames(ds.fieldNames)})`,
      { place: `${place}.field` },
    );
  }
  const offsets = ds.fieldOffsets(field);
  if (t.length === true) {
    if (offsets === null) {
      throw new MtlError(
        'CONFIG_INVALID',
        `"length" counts the items of a variable-length field, and field "${field}" has rows of one shape [${ds.fieldInfo(field).rowShape}]`,
        { place: `${place}.length` },
      );
    }
    for (let r = 0; r < ds.length; r++) out[r] = offsets[r + 1]! - offsets[r]!;
    return out;
  }
  if (offsets !== null) {
    throw new MtlError(
      'CONFIG_INVALID',
      `field "${field}" has rows of varying length: test their length with "length: true"`,
      { place: `${place}.field` },
    );
  }
  const width = ds.fieldInfo(field).rowShape.reduce((a, b) => a * b, 1);
  return pickColumn(ds.fieldValues(field), width, t.index, ds.length, `field "${field}"`, place);
}

function pickColumn(
  values: ArrayLike<number>,
  width: number,
  index: number | undefined,
  rows: number,
  what: string,
  place: string,
): Float64Array {
  if (index === undefined && width !== 1) {
    throw new MtlError(
      'CONFIG_INVALID',
      `${what} has ${width} values per row: say which with "index" (0..${width - 1})`,
      {
        place,
      },
    );
  }
  const at = index ?? 0;
  if (at >= width) {
    throw new MtlError(
      'CONFIG_INVALID',
      `${what} has ${width} value${width === 1 ? '' : 's'} per row, so index ${at} is out of range (0..${width - 1})`,
      { place: `${place}.index` },
    );
  }
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = values[r * width + at]!;
  return out;
}

function evaluateTest(ds: DictDataset, t: SliceCondition, place: string): Uint8Array {
  const values = rowValues(ds, t, place);
  // A string names a category: the id of that string in the field's dictionary (none: NaN, no row).
  const dictionary = t.field !== undefined && t.length !== true ? ds.fieldDictionary(t.field) : undefined;
  const toNumber = (v: number | string, key: string): number => {
    if (typeof v === 'number') return v;
    if (dictionary === undefined) {
      throw new MtlError(
        'CONFIG_INVALID',
        `compares with the string ${JSON.stringify(v)}, but ${t.field !== undefined ? `field "${t.field}"` : `label "${t.label}"`} holds numbers (strings name the categories of a categorical field)`,
        { place: `${place}.${key}` },
      );
    }
    const id = dictionary.indexOf(v);
    return id < 0 ? Number.NaN : id;
  };
  const eq = t.eq === undefined ? undefined : toNumber(t.eq, 'eq');
  const ne = t.ne === undefined ? undefined : toNumber(t.ne, 'ne');
  const among = t.in === undefined ? undefined : new Set(t.in.map((v, i) => toNumber(v, `in[${i}]`)));
  const out = new Uint8Array(ds.length);
  for (let r = 0; r < ds.length; r++) {
    const v = values[r]!;
    const keep =
      !Number.isNaN(v) &&
      (t.lt === undefined || v < t.lt) &&
      (t.le === undefined || v <= t.le) &&
      (t.gt === undefined || v > t.gt) &&
      (t.ge === undefined || v >= t.ge) &&
      (eq === undefined || v === eq) &&
      (ne === undefined || v !== ne) &&
      (among === undefined || among.has(v));
    out[r] = keep ? 1 : 0;
  }
  return out;
}

/**
 * Every slice of `slices` on one dataset ({@link evaluateSlice}), errors placed at
 * `<place>.<slice name>...`.
 * @example
 * sliceMasks(ds, { short: { field: 'length', lt: 5 } }, 'tasks.y.slices'); // { short: Uint8Array [...] }
 */
export function sliceMasks(
  ds: DictDataset,
  slices: Readonly<Record<string, SliceCondition>>,
  place = 'slices',
): SliceRowMasks {
  const out: SliceRowMasks = {};
  for (const [name, condition] of Object.entries(slices)) {
    const named = sliceNameSchema.safeParse(name);
    if (!named.success) {
      throw new MtlError('CONFIG_INVALID', named.error.issues[0]!.message, { place: `${place}.${name}` });
    }
    out[name] = evaluateSlice(ds, condition, `${place}.${name}`);
  }
  return out;
}

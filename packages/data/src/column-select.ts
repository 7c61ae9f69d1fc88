import { MtlError } from '@mtl/core';

const RANGE = /^(.*?)(\d+)\.\.(.*?)(\d+)$/;
/** More columns than any table this toolkit reads; stops `x0..x999999999` from allocating forever. */
const MAX_RANGE = 1_000_000;

/**
 * The column names of a range `px0..px63` (also `px0..63`; a zero-padded start such as `px00..px63`
 * keeps its width), or `null` when `text` is not a range.
 * @example
 * expandColumnRange('px0..px3'); // ['px0', 'px1', 'px2', 'px3']
 * expandColumnRange('f08..f10'); // ['f08', 'f09', 'f10']
 */
export function expandColumnRange(text: string): string[] | null {
  const m = RANGE.exec(text);
  if (m === null) return null;
  const [, prefix, from, endPrefix, to] = m as unknown as [string, string, string, string, string];
  if (endPrefix !== '' && endPrefix !== prefix) return null;
  const start = Number(from);
  const end = Number(to);
  if (end < start) {
    throw new MtlError('INVALID_ARGUMENT', `column range "${text}" runs backwards (${start} > ${end})`, {
      place: `columns ${text}`,
    });
  }
  if (end - start + 1 > MAX_RANGE) {
    throw new MtlError('INVALID_ARGUMENT', `column range "${text}" has more than ${MAX_RANGE} columns`, {
      place: `columns ${text}`,
    });
  }
  const width = from.length > 1 && from.startsWith('0') ? from.length : 0;
  const out: string[] = [];
  for (let i = start; i <= end; i++) out.push(`${prefix}${String(i).padStart(width, '0')}`);
  return out;
}

/**
 * Resolves a field's column selector against the columns a file has (CSV header, or the keys of
 * the first JSONL line), in file order for a prefix. A name the file has is taken literally, even
 * if it looks like a range. A range or prefix that matches no column is `CSV_MISSING_COLUMN`, as
 * is a range with a missing member; a plain missing name is left for the reader to report.
 * @example
 * selectColumns({ items: ['id', 'px0..px1'] }, ['id', 'px0', 'px1', 'y'], 'field "x"'); // ['id', 'px0', 'px1']
 * selectColumns({ prefix: 'px' }, ['id', 'px0', 'px1', 'y'], 'field "x"'); // ['px0', 'px1']
 */
export function selectColumns(
  selector: { items?: readonly string[]; prefix?: string },
  available: readonly string[],
  what: string,
  place = 'columns',
): string[] {
  const shown = available.length > 20 ? `${available.slice(0, 20).join(', ')}, ...` : available.join(', ');
  if (selector.prefix !== undefined) {
    const p = selector.prefix;
    const out = available.filter((c) => c.startsWith(p));
    if (out.length === 0) {
      throw new MtlError(
        'CSV_MISSING_COLUMN',
        `${what}: prefix "${p}" matches no column (columns: ${shown})`,
        {
          place,
          details: { prefix: p, columns: [...available] },
        },
      );
    }
    return out;
  }
  const out: string[] = [];
  for (const item of selector.items ?? []) {
    const range = available.includes(item) ? null : expandColumnRange(item);
    if (range === null) {
      out.push(item);
      continue;
    }
    const missing = range.filter((c) => !available.includes(c));
    if (missing.length === range.length) {
      throw new MtlError(
        'CSV_MISSING_COLUMN',
        `${what}: range "${item}" matches no column (columns: ${shown})`,
        {
          place,
          details: { range: item, columns: [...available] },
        },
      );
    }
    if (missing.length > 0) {
      throw new MtlError(
        'CSV_MISSING_COLUMN',
        `${what}: range "${item}" needs column "${missing[0]}", which the file lacks (${missing.length} of ${range.length} missing)`,
        { place, details: { range: item, missing } },
      );
    }
    out.push(...range);
  }
  return out;
}

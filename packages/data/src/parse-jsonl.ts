import type { ReadTableOptions } from './column-mapping.js';
import type { DictDataset } from './dict-dataset.js';
import { JsonlRows } from './internal/jsonl-rows.js';

/**
 * Reads a JSON Lines text (a file a page was given, a string in a test) into a
 * {@link DictDataset} with the same key mapping, checks and errors as `readJsonl` of
 * `@mtl/data/node`, which streams a file on disk: `file` is the name errors give (`file:line`).
 * Lines end with \n, \r\n or \r, as Node's readline splits them. Runs in a browser.
 * @example
 * const ds = parseJsonl('{"x": 0.5, "y": 1}\n', 'points.jsonl', { name: 'points', fields: { x: 'x' }, labels: { y: 'y' } });
 * ds.length; // 1
 */
export function parseJsonl(text: string, file: string, options: ReadTableOptions): DictDataset {
  const rows = new JsonlRows(file, options, 'parseJsonl');
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) rows.push(lines[i]!, i + 1);
  return rows.finish();
}

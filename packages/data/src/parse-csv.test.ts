import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMtlError } from '@mtl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from './parse-csv.js';
import { readCsv } from './read-csv.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-parse-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS = {
  name: 'pts',
  split: 'train',
  fields: { xy: ['x', 'y'], colour: { column: 'colour', kind: 'categorical' as const } },
  labels: {
    inside: { column: 'inside', numClasses: 2 },
    size: { column: 'size', kind: 'regression' as const },
  },
};

/** The error a call throws, as `code place: message`. */
async function failure(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (isMtlError(e)) return `${e.code} ${e.place}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

describe('parseCsv (a text, in a page) reads as readCsv (a file) does', () => {
  const text = '\ufeffx,y,colour,inside,size\n0.5,-1,red,1,2.5\n\n"0.25",3e-2,blue,,1\r\n-7,8,red,0,0.125\n';
  const file = join(dir, 'pts.csv');
  writeFileSync(file, text);

  it('gives the same dataset: fields, dictionaries, labels, abstentions', async () => {
    const fromText = parseCsv(text, file, OPTIONS);
    const fromFile = await readCsv(file, OPTIONS);
    expect(fromText.length).toBe(3);
    expect(fromText.name).toBe('pts');
    for (const ds of [fromText, fromFile]) {
      expect(Array.from(ds.row(1).X.xy as number[])).toEqual([0.25, Math.fround(0.03)]);
    }
    for (let i = 0; i < 3; i++) expect(fromText.row(i)).toEqual(fromFile.row(i));
    expect(fromText.fieldDictionary('colour')).toEqual(['red', 'blue']);
    expect(fromFile.fieldDictionary('colour')).toEqual(['red', 'blue']);
    expect(fromText.row(1).Y.inside).toBe(-1);
  });

  it('names the same file, line and column on bad content', async () => {
    const cases = [
      'x,y,colour,inside,size\n0.5,oops,red,1,2\n',
      'x,y,colour,inside,size\n0.5,1,red,1\n',
      'x,y,colour,inside\n0.5,1,red,1\n',
      'x,y,colour,inside,size\n0.5,1,red,7,2\n',
      'x,y,colour,inside,size\n',
      '',
      'x,y,colour,inside,size\n0.5,"1,red,1,2\n',
    ];
    const seen: string[] = [];
    for (const [k, bad] of cases.entries()) {
      const path = join(dir, `bad-${k}.csv`);
      writeFileSync(path, bad);
      const fromText = await failure(() => parseCsv(bad, path, OPTIONS));
      expect(fromText).toBe(await failure(() => readCsv(path, OPTIONS)));
      seen.push(fromText.replaceAll(dir, 'DIR'));
    }
    expect(seen.slice(0, 6)).toEqual([
      'CSV_PARSE DIR/bad-0.csv:2:y: DIR/bad-0.csv:2:y: field "xy": cell "oops" in column "y" is not a number',
      'CSV_PARSE DIR/bad-1.csv:2: DIR/bad-1.csv:2: row has 4 cells but the header has 5',
      'CSV_MISSING_COLUMN DIR/bad-2.csv:1: DIR/bad-2.csv:1: label "size" needs column "size", which the header lacks (header: x, y, colour, inside)',
      'LABEL_OUT_OF_RANGE DIR/bad-3.csv:2:inside: DIR/bad-3.csv:2:inside: label "inside": 7 in column "inside" is outside the class range (ids lie in [0, 2); -1 = abstain)',
      'DATA_EMPTY DIR/bad-4.csv: DIR/bad-4.csv: the file has a header but no rows',
      'DATA_EMPTY DIR/bad-5.csv: DIR/bad-5.csv: the file is empty (no header)',
    ]);
    expect(seen[6]).toMatch(/^CSV_PARSE DIR\/bad-6.csv:2: /);
  });
});

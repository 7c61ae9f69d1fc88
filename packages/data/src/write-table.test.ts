import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DictDataset } from './dict-dataset.js';
import { formatFloat32 } from './format-float32.js';
import { writeCsv, writeJsonl } from './write-table.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-data-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writers', () => {
  it('formats float32 values in the shortest text that reads back exactly (property)', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(3)).toBe('3');
    expect(formatFloat32(Math.fround(1 / 3))).toBe('0.33333334');
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
        expect(Math.fround(Number(formatFloat32(v)))).toBe(Math.fround(v));
      }),
      { numRuns: 500 },
    );
  });

  it('writes CSV with vector columns, class names and empty abstain cells', async () => {
    const ds = new DictDataset(
      'w',
      'train',
      {
        p: [
          [0.5, 1],
          [2, 3],
        ],
      },
      { y: [1, -1] },
    );
    const p = join(dir, 'w.csv');
    await writeCsv(ds, p, { classes: { y: ['no', 'yes, really'] } });
    expect(readFileSync(p, 'utf8')).toBe('p_0,p_1,y\n0.5,1,"yes, really"\n2,3,\n');
  });

  it('writes JSONL with arrays for vector and ragged fields and null for abstain', async () => {
    const ds = new DictDataset('w', 'train', { t: [[1, 2], [3]], s: [7, 8] }, { y: [0, -1] });
    const p = join(dir, 'w.jsonl');
    await writeJsonl(ds, p);
    expect(readFileSync(p, 'utf8')).toBe('{"t":[1,2],"s":7,"y":0}\n{"t":[3],"s":8,"y":null}\n');
  });

  it('refuses ragged fields in CSV and clashing column names', async () => {
    const ragged = new DictDataset('w', 'train', { t: [[1, 2], [3]] });
    await expect(writeCsv(ragged, join(dir, 'r.csv'))).rejects.toThrow(/rows of different lengths/);
    const clash = new DictDataset('w', 'train', { a: [[1, 2]], a_0: [5] });
    await expect(writeCsv(clash, join(dir, 'c.csv'))).rejects.toThrow(/share the CSV column "a_0"/);
  });
});

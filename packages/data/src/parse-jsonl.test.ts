import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caught } from '@mtl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJsonl } from './parse-jsonl.js';
import { readJsonl } from './read-jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-parse-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS = {
  name: 'pts',
  split: 'train',
  fields: { xy: 'xy', colour: { column: 'colour', kind: 'categorical' as const }, ids: 'ids' },
  labels: {
    inside: { column: 'inside', numClasses: 2 },
    size: { column: 'size', kind: 'regression' as const },
  },
};

/** The error a call throws, as `code place: message`. */
async function failure(f: () => unknown): Promise<string> {
  const e = await caught(async () => f());
  return `${e.code} ${e.place}: ${e.message}`;
}

describe('parseJsonl (a text, in a page) reads as readJsonl (a file) does', () => {
  // \r\n, a lone \r, a blank line, a null (abstained) class, a missing regression label, ragged ids.
  const text = [
    '{"xy": [0.5, -1], "colour": "red", "ids": [1, 2, 3], "inside": 1, "size": 2.5}',
    '',
    '{"xy": [0.25, 0.03], "colour": "blue", "ids": [4], "inside": null}\r\n{"xy": [-7, 8], "colour": 3, "ids": [5, 6], "inside": 0, "size": 0.125}\r',
  ].join('\n');
  const file = join(dir, 'pts.jsonl');
  writeFileSync(file, text);

  it('gives the same dataset: fields, dictionaries, ragged rows, labels, abstentions', async () => {
    const fromText = parseJsonl(text, file, OPTIONS);
    const fromFile = await readJsonl(file, OPTIONS);
    expect([fromText.length, fromFile.length]).toEqual([3, 3]);
    expect(fromText.name).toBe('pts');
    for (let i = 0; i < 3; i++) expect(fromText.row(i)).toEqual(fromFile.row(i));
    expect(Array.from(fromText.row(2).X.ids as number[])).toEqual([5, 6]);
    expect(fromText.fieldDictionary('colour')).toEqual(['red', 'blue', '3']);
    expect(fromText.row(1).Y.inside).toBe(-1);
    expect(Number.isNaN(fromText.row(1).Y.size as number)).toBe(true);
  });

  it('names the same file, line and key on bad content', async () => {
    const cases = [
      '{"xy": [0.5, 1], "colour": "red", "ids": [1], "inside": 1, "size": "big"}\n',
      '{"xy": [0.5, 1], "colour": "red", "ids": [1], "inside": 1, "size": 1}\n{"xy": 0.5, "colour": "red", "ids": [1], "inside": 1, "size": 1}\n',
      '{"xy": [0.5, 1], "colour": "red", "ids": [1], "inside": 1, "size": 1}\n\nnot json\n',
      '[1, 2]\n',
      '{"xy": [0.5, 1], "ids": [1], "inside": 1, "size": 1}\n',
      '{"xy": [0.5, 1], "colour": "red", "ids": [1], "inside": 7, "size": 1}\n',
      '{"xy": [0.5, 1], "colour": "red", "ids": [1], "inside": 1}\n',
      '\n\n',
    ];
    for (const [i, bad] of cases.entries()) {
      const path = join(dir, `bad-${i}.jsonl`);
      writeFileSync(path, bad);
      const fromText = await failure(() => parseJsonl(bad, path, OPTIONS));
      expect(fromText).toContain(path);
      expect(fromText, bad).toBe(await failure(() => readJsonl(path, OPTIONS)));
    }
    expect(await failure(() => parseJsonl(cases[2]!, 'f.jsonl', OPTIONS))).toMatch(
      /^DATA_INVALID f\.jsonl:3: f\.jsonl:3: line is not valid JSON/,
    );
  });
});

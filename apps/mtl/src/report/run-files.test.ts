import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtlError } from '@mtl/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readReportSource, readRunFiles } from './run-files.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mtl-run-files-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function codeAndPlace(p: Promise<unknown>): Promise<[string, string | undefined, string]> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(MtlError);
    const m = e as MtlError;
    return [m.code, m.place, m.message];
  }
  throw new Error('expected a rejection');
}

describe('readReportSource', () => {
  it('a missing folder, or one with no run file, is FILE_NOT_FOUND naming it', async () => {
    const [code, place, message] = await codeAndPlace(readReportSource(join(dir, 'nope')));
    expect([code, place]).toEqual(['FILE_NOT_FOUND', 'RUN_DIR']);
    expect(message).toContain(join(dir, 'nope'));
    const [code2, , message2] = await codeAndPlace(readReportSource(dir));
    expect(code2).toBe('FILE_NOT_FOUND');
    expect(message2).toContain('is not a run directory: none of config.resolved.yaml, metrics.jsonl');
  });

  it('a run that has written only its config and part of a line is a run in progress', async () => {
    writeFileSync(join(dir, 'config.resolved.yaml'), 'seed: 1\n');
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      '{"step":5,"epoch":0,"a/d/train/loss":0.5}\n{"step":10,"epoch":1,"a/d/train/loss":0.4}\n{"step":15,"ep',
    );
    const source = await readReportSource(dir);
    expect(source.kind).toBe('run');
    if (source.kind !== 'run') return;
    expect(source.run.metrics.map((r) => r.step)).toEqual([5, 10]);
    expect(source.run.scores).toBeUndefined();
    expect(source.run.summary).toBeUndefined();
    expect(source.run.mixing).toBeUndefined();
    expect(source.run.configText).toBe('seed: 1\n');
  });

  it('a comparison still running (only multitask/ so far) is a comparison in progress', async () => {
    mkdirSync(join(dir, 'multitask'));
    writeFileSync(join(dir, 'multitask', 'config.resolved.yaml'), 'seed: 1\n');
    const source = await readReportSource(dir);
    expect(source.kind).toBe('compare');
    if (source.kind !== 'compare') return;
    expect(source.comparison).toBeUndefined();
    expect(source.multitask?.dir).toBe(join(dir, 'multitask'));
  });

  it('a moved comparison folder reads the sub-runs beside comparison.json', async () => {
    const source = await readReportSource(join(FIXTURES, 'compare'));
    if (source.kind !== 'compare') throw new Error('expected a comparison');
    expect(source.comparison!.runs.multitask).toBe('/tmp/mtl-compare-moved/multitask');
    expect(source.multitask!.dir).toBe(join(FIXTURES, 'compare', 'multitask'));
    expect(source.solo).toEqual({
      circle_task: join(FIXTURES, 'compare', 'solo-circle_task'),
      square_task: join(FIXTURES, 'compare', 'solo-square_task'),
    });
    expect(source.comparison!.deltaM).toBeCloseTo(0.010687432867884004, 12);
  });
});

describe('readRunFiles: malformed files are FILE_READ naming the file', () => {
  it('a mixing matrix that is not T×T', async () => {
    writeFileSync(
      join(dir, 'mixing.json'),
      JSON.stringify({ tasks: ['a', 'b'], alpha: [[null, 1], [1]], beta: null }),
    );
    const [code, place, message] = await codeAndPlace(readRunFiles(dir));
    expect([code, place]).toEqual(['FILE_READ', `${join(dir, 'mixing.json')}: alpha[1]`]);
    expect(message).toContain('alpha must be 2×2');
  });

  it('a mixing file of the wrong shape, with the JSON path', async () => {
    writeFileSync(join(dir, 'mixing.json'), JSON.stringify({ tasks: ['a'], alpha: [['x']] }));
    const [code, place] = await codeAndPlace(readRunFiles(dir));
    expect([code, place]).toEqual(['FILE_READ', `${join(dir, 'mixing.json')}: alpha.0.0`]);
  });

  it('scores that are not JSON', async () => {
    writeFileSync(join(dir, 'scores.json'), '{"a/d/test/accuracy": 0.5');
    const [code, place] = await codeAndPlace(readRunFiles(dir));
    expect([code, place]).toEqual(['FILE_READ', join(dir, 'scores.json')]);
  });

  it('a metrics line in the middle that is not JSON, with its line number', async () => {
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1,"epoch":0}\nnot json\n{"step":2,"epoch":0}\n');
    const [code, place] = await codeAndPlace(readRunFiles(dir));
    expect([code, place]).toEqual(['FILE_READ', `${join(dir, 'metrics.jsonl')}:2`]);
  });
});

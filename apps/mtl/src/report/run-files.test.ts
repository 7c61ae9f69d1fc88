import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MtlError } from '@mtl/core';
import { loadCheckpoint } from '@mtl/training';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readReportSource, readReportSources, readRunFiles, runLabels, watchedMetrics } from './run-files.js';

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

describe('the best checkpoint and the watched metrics', () => {
  it('are read from best.ckpt and the resolved config; the epoch is that of the metrics line', async () => {
    const run = await readRunFiles(join(FIXTURES, 'multitask'));
    const ckpt = await loadCheckpoint(join(FIXTURES, 'multitask', 'checkpoints', 'best.ckpt'));
    expect(run.best).toEqual({
      metric: 'model/all/valid/loss',
      mode: 'min',
      value: ckpt.trainer!.best!.value,
      step: ckpt.trainer!.step,
      epoch: run.metrics.find((r) => r.step === ckpt.trainer!.step)!.epoch,
    });
    // The fixture's best is not its last evaluation, and is the lowest logged value.
    const logged = run.metrics.map((r) => [r.step, r.metrics['model/all/valid/loss']!] as const);
    const lowest = logged.reduce((a, b) => (b[1] < a[1] ? b : a));
    expect(run.best!.step).toBe(lowest[0]);
    expect(run.best!.value).toBe(lowest[1]);
    expect(run.best!.step).toBe(400);
    expect(run.watched).toEqual([{ key: 'model/all/valid/loss', role: 'checkpoint' }]);
  });

  it('a run without checkpointMetric has none; a corrupt best.ckpt is said, not fatal', async () => {
    expect((await readRunFiles(join(FIXTURES, 'single-epoch'))).best).toBeUndefined();
    cpSync(join(FIXTURES, 'multitask'), dir, { recursive: true });
    const file = join(dir, 'checkpoints', 'best.ckpt');
    const bytes = readFileSync(file);
    bytes[bytes.length - 40]! ^= 1;
    writeFileSync(file, bytes);
    const run = await readRunFiles(dir);
    expect(run.best).toBeUndefined();
    expect(run.bestError).toContain('checksum');
    expect(run.metrics).toHaveLength(10);
  });

  it('watchedMetrics: checkpoint, early stopping (defaulting to the checkpoint metric), plateau', () => {
    expect(
      watchedMetrics(
        'training:\n  checkpointMetric: a/d/valid/f1\n  earlyStopping: { patience: 3 }\n' +
          '  lrSchedule: { type: plateau, metric: model/all/valid/loss }\n',
      ),
    ).toEqual([
      { key: 'a/d/valid/f1', role: 'checkpoint' },
      { key: 'a/d/valid/f1', role: 'early stopping' },
      { key: 'model/all/valid/loss', role: 'lr plateau' },
    ]);
    expect(watchedMetrics('training:\n  earlyStopping: { metric: x/y/valid/loss }\n')).toEqual([
      { key: 'x/y/valid/loss', role: 'early stopping' },
    ]);
    expect(watchedMetrics(undefined)).toEqual([]);
    expect(watchedMetrics(': not yaml [')).toEqual([]);
  });
});

describe('readReportSources (several runs)', () => {
  it('names runs by folder, with as many parents as it takes to tell them apart', () => {
    expect(runLabels(['/r/a', '/r/b'])).toEqual(['a', 'b']);
    expect(runLabels(['/r/x/multitask', '/r/y/multitask', '/r/y/solo'])).toEqual([
      'x/multitask',
      'y/multitask',
      'y/solo',
    ]);
    expect(runLabels(['/r/x/m', '/r/x/m2', '/s/x/m'])).toEqual(['r/x/m', 'r/x/m2', 's/x/m']);
  });

  it('reads each run; a compare folder stands for its multitask and solo runs', async () => {
    const source = await readReportSources([join(FIXTURES, 'multitask'), join(FIXTURES, 'compare')]);
    if (source.kind !== 'runs') throw new Error('expected runs');
    expect(source.runs.map((r) => r.label)).toEqual([
      'fixtures/multitask',
      'compare/multitask',
      'compare/solo-circle_task',
      'compare/solo-square_task',
    ]);
    expect(source.dir).toBe(FIXTURES.replace(/\/$/, ''));
    expect(source.runs[0]!.run.best?.step).toBe(400);
  });

  it('one folder is the ordinary report; a folder twice is INVALID_ARGUMENT; a non-run names its place', async () => {
    expect((await readReportSources([join(FIXTURES, 'vmtl')])).kind).toBe('run');
    const twice = await codeAndPlace(
      readReportSources([join(FIXTURES, 'vmtl'), `${join(FIXTURES, 'vmtl')}/`]),
    );
    expect(twice.slice(0, 2)).toEqual(['INVALID_ARGUMENT', 'RUN_DIR']);
    expect(twice[2]).toContain('given twice');
    const missing = await codeAndPlace(readReportSources([join(FIXTURES, 'vmtl'), join(dir, 'nope')]));
    expect(missing.slice(0, 2)).toEqual(['FILE_NOT_FOUND', `RUN_DIR 2 (${join(dir, 'nope')})`]);
  });
});

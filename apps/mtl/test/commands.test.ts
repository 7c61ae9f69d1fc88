import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentBackend, nativeStatus } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, EXAMPLES, readJson, tempDir } from './helpers.js';

const BIN = new URL('../bin/mtl.js', import.meta.url).pathname;
let runDir = '';
let trainOut = '';

beforeAll(async () => {
  runDir = join(tempDir(), 'run');
  const r = await cli(
    'train',
    join(EXAMPLES, 'snorkel-basics.yaml'),
    '--out',
    runDir,
    '--quiet',
    '--verbose',
    '--set',
    'training.epochs=4',
  );
  expect(r.err).toBe('');
  trainOut = r.out;
});

describe('mtl score, predict, validate, compare', () => {
  it('score reproduces the scores.json of the run, as a table or JSON', async () => {
    const before = tf.memory().numTensors;
    const r = await cli('score', runDir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(readJson(join(runDir, 'scores.json')));
    const table = await cli('score', runDir);
    expect(table.out.split('\n')[0]).toMatch(/^task\s+dataset\s+split\s+metric\s+value$/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('predict writes one row per input row, for unlabeled CSV and JSONL, consistent with the model', async () => {
    const dir = tempDir();
    // Points far inside / far outside the unit circle, no label column.
    writeFileSync(
      join(dir, 'in.csv'),
      'circle_data_0,circle_data_1\n0.05,-0.02\n0.95,0.97\n-0.9,0.92\n0,0.1\n',
    );
    const r = await cli(
      'predict',
      runDir,
      '--task',
      'circle_task',
      '--input',
      join(dir, 'in.csv'),
      '--output',
      join(dir, 'out.csv'),
    );
    expect(r.err).toBe('');
    expect(r.out).toContain('4 predictions written');
    const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('row,pred,prob_0,prob_1');
    const preds = lines.slice(1).map((l) => Number(l.split(',')[1]));
    expect(preds).toEqual([1, 0, 0, 1]);
    for (const l of lines.slice(1)) {
      const [, , p0, p1] = l.split(',').map(Number);
      expect(p0! + p1!).toBeCloseTo(1, 5);
    }
    writeFileSync(join(dir, 'in.jsonl'), '{"circle_data":[0.05,-0.02]}\n{"circle_data":[0.95,0.97]}\n');
    await cli(
      'predict',
      runDir,
      '--task',
      'circle_task',
      '--input',
      join(dir, 'in.jsonl'),
      '--output',
      join(dir, 'out.jsonl'),
    );
    const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => x.pred)).toEqual([1, 0]);
    expect(
      (
        await cli(
          'predict',
          runDir,
          '--task',
          'nope',
          '--input',
          join(dir, 'in.csv'),
          '--output',
          join(dir, 'o.csv'),
        )
      ).err,
    ).toContain('unknown task "nope" (known: circle_task, square_task)');
  });

  it('validate describes the config and writes nothing', async () => {
    const r = await cli('validate', join(EXAMPLES, 'csv-tasks.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('task status: sensors [readings] -> status (train 840, valid 180, test 180)');
    expect(r.out).toContain('modules: trunk, status_head, yield_head');
    // On wasm it says whether @mtl/native's BLAS kernels are in use, and why not.
    if (currentBackend() === 'wasm') {
      const native = nativeStatus();
      expect(r.out).toContain(`native kernels: ${native.active ? 'on' : 'off'} (${native.detail})`);
    }
  });

  it('train --verbose says whether the native kernels are in use (MTL_NATIVE=0 turns them off), even with --quiet', () => {
    const lines = trainOut.split('\n');
    const native = nativeStatus();
    const expected =
      currentBackend() === 'wasm'
        ? `native kernels: ${native.active ? 'on' : 'off'} (${native.detail})`
        : `native kernels: not used (backend ${currentBackend()})`;
    expect(lines[1]).toBe(expected);
    if (process.env.MTL_NATIVE === '0') expect(expected).toContain('off (disabled by MTL_NATIVE=0)');
  });

  it('compare trains the multitask model and one solo model per task, and reports Δm', async () => {
    const out = join(tempDir(), 'cmp');
    const r = await cli(
      'compare',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--out',
      out,
      '--set',
      'training.epochs=2',
    );
    expect(r.err).toBe('');
    const c = readJson<{
      split: string;
      multitask: Record<string, number>;
      solo: Record<string, number>;
      deltaM: number;
      perTask: Record<string, number>;
    }>(join(out, 'comparison.json'));
    expect(c.split).toBe('test');
    expect(Object.keys(c.perTask).sort()).toEqual(['circle_task', 'square_task']);
    // Δm is the mean over tasks of the relative change of test accuracy.
    const rel = (t: string, d: string) => {
      const k = `${t}/${d}/test/accuracy`;
      return (c.multitask[k]! - c.solo[k]!) / c.solo[k]!;
    };
    expect(c.deltaM).toBeCloseTo(
      (rel('circle_task', 'circleDataset') + rel('square_task', 'squareDataset')) / 2,
      10,
    );
    expect(r.out).toMatch(/Δm \(test, accuracy\): -?\d+\.\d\d%/);
    expect(readJson<{ tasks: string[] }>(join(out, 'solo-square_task', 'summary.json')).tasks).toEqual([
      'square_task',
    ]);
  });

  it('the bin runs from sources right after install: --help, and errors without a stack trace', () => {
    const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('mtl train <config>');
    const bad = spawnSync(process.execPath, [BIN, 'train', '/no/such.yaml'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('error [FILE_NOT_FOUND]: /no/such.yaml: no such file');
  });
});

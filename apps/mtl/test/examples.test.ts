import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, median, readJson, tempDir } from './helpers.js';

type Scores = Record<string, number>;
const accuracies = (scores: Scores) => Object.entries(scores).filter(([k]) => k.endsWith('/accuracy'));

describe('examples, trained by the CLI', () => {
  it('snorkel-basics-inv-circle: 3 tasks, 4 modules, 9 accuracies >= 0.85, median >= 0.92', async () => {
    const out = join(tempDir(), 'run');
    const before = tf.memory().numTensors;
    const r = await cli('train', join(EXAMPLES, 'snorkel-basics-inv-circle.yaml'), '--out', out, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const summary = readJson<{ tasks: string[]; modules: string[] }>(join(out, 'summary.json'));
    expect(summary.tasks).toEqual(['circle_task', 'square_task', 'inv_circle_task']);
    expect(summary.modules.sort()).toEqual(['base_mlp', 'circle_head', 'inv_circle_head', 'square_head']);
    const acc = accuracies(readJson<Scores>(join(out, 'scores.json')));
    expect(acc).toHaveLength(9);
    for (const [key, value] of acc) expect(value, key).toBeGreaterThanOrEqual(0.85);
    expect(median(acc.map(([, v]) => v))).toBeGreaterThanOrEqual(0.92);
    for (const f of ['config.resolved.yaml', 'metrics.jsonl', 'checkpoints/last.ckpt', 'model/model.mtl']) {
      expect(readFileSync(join(out, f)).length, f).toBeGreaterThan(0);
    }
  });

  it('adding a task with --from reuses the shared modules; removing one drops its head', async () => {
    const dir = tempDir();
    const base = join(dir, 'base');
    expect((await cli('train', join(EXAMPLES, 'snorkel-basics.yaml'), '--out', base, '--quiet')).code).toBe(
      0,
    );
    const baseScores = readJson<Scores>(join(base, 'scores.json'));

    const grown = join(dir, 'grown');
    const r = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics-inv-circle.yaml'),
      '--from',
      base,
      '--out',
      grown,
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('reused base_mlp, circle_head, square_head; new inv_circle_head');
    const summary = readJson<Record<string, string[]>>(join(grown, 'summary.json'));
    expect(summary.reused!.sort()).toEqual(['base_mlp', 'circle_head', 'square_head']);
    expect(summary.new).toEqual(['inv_circle_head']);
    expect(summary.dropped).toEqual([]);
    expect(summary.reshaped).toEqual([]);
    const grownScores = readJson<Scores>(join(grown, 'scores.json'));
    for (const key of Object.keys(baseScores).filter((k) =>
      /^(circle|square)_task\/.*\/(valid|test)\/accuracy$/.test(k),
    )) {
      expect(grownScores[key]!, key).toBeGreaterThanOrEqual(baseScores[key]! - 0.03);
    }

    // Back to two tasks: the inv_circle head is dropped; a reshaped head is re-initialised.
    const shrunk = join(dir, 'shrunk');
    const s = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--from',
      grown,
      '--out',
      shrunk,
      '--quiet',
      '--set',
      'modules.square_head={kind: mlp, inputSize: 4, hidden: [3], outputSize: 2}',
      '--set',
      'training.epochs=1',
    );
    expect(s.err).toBe('');
    const shrunkSummary = readJson<Record<string, string[]>>(join(shrunk, 'summary.json'));
    expect(shrunkSummary.dropped).toEqual(['inv_circle_head']);
    expect(shrunkSummary.reshaped).toEqual(['square_head']);
    expect(shrunkSummary.reused!.sort()).toEqual(['base_mlp', 'circle_head']);
  });

  it('the same seed gives an identical scores.json; another seed differs', async () => {
    const dir = tempDir();
    const cfg = join(EXAMPLES, 'snorkel-basics.yaml');
    const args = ['--quiet', '--set', 'training.epochs=3'];
    await cli('train', cfg, '--out', join(dir, 'a'), ...args);
    await cli('train', cfg, '--out', join(dir, 'b'), ...args);
    await cli('train', cfg, '--out', join(dir, 'c'), ...args, '--set', 'seed=124');
    const a = readFileSync(join(dir, 'a', 'scores.json'), 'utf8');
    expect(readFileSync(join(dir, 'b', 'scores.json'), 'utf8')).toBe(a);
    expect(readFileSync(join(dir, 'c', 'scores.json'), 'utf8')).not.toBe(a);
  });

  it('vmtl-logistic: mixing.json links tasks 1 and 2', async () => {
    const out = join(tempDir(), 'vmtl');
    const r = await cli('train', join(EXAMPLES, 'vmtl-logistic.yaml'), '--out', out, '--quiet');
    expect(r.err).toBe('');
    const mixing = readJson<{ tasks: string[]; alpha: (number | null)[][]; beta: unknown }>(
      join(out, 'mixing.json'),
    );
    expect(mixing.tasks).toEqual(['task1', 'task2', 'task3']);
    const a = mixing.alpha;
    expect(a[0]![0]).toBeNull();
    expect(a[0]![1]!).toBeGreaterThanOrEqual(0.65);
    expect(a[1]![0]!).toBeGreaterThanOrEqual(0.65);
    expect(a[0]![1]!).toBeGreaterThan(a[0]![2]!);
    expect(a[1]![0]!).toBeGreaterThan(a[1]![2]!);
    for (const row of a) expect(row.reduce<number>((s, v) => s + (v ?? 0), 0)).toBeCloseTo(1, 5);
    const scores = readJson<Scores>(join(out, 'scores.json'));
    expect(Object.keys(scores).filter((k) => k.endsWith('/test/accuracy'))).toHaveLength(3);
  });

  it('csv-tasks: classification with class names and regression from CSV files', async () => {
    const out = join(tempDir(), 'csv');
    const r = await cli(
      'train',
      join(EXAMPLES, 'csv-tasks.yaml'),
      '--out',
      out,
      '--quiet',
      '--set',
      'training.epochs=10',
    );
    expect(r.err).toBe('');
    const scores = readJson<Scores>(join(out, 'scores.json'));
    expect(scores['status/sensors/test/accuracy']!).toBeGreaterThan(0.9);
    expect(scores['yield/yields/test/r2']!).toBeGreaterThan(0.9);
    // 1200 rows, 15% test; abstained rows (empty status) are not scored.
    expect(Object.keys(scores).filter((k) => k.startsWith('yield/'))).toHaveLength(9);
  });
});

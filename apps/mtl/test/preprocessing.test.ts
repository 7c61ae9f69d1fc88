// Real-data friction: scaling fitted on train and saved with the model, categorical and text
// fields, column ranges and prefixes, and train shuffling as an option.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RandomStream } from '@mtl/core';
import { applyPreprocessing, DictDataset, fitPreprocessing } from '@mtl/data';
import { embedding, meanPool } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { prepare } from '../src/prepare.js';
import { cli, EXAMPLES, readJson, tempDir, writeConfig } from './helpers.js';

type Scores = Record<string, number>;

/**
 * A seeded table whose raw features fail: `income` ~ U(0, 5000) and `ratio` ~ U(0, 0.01), target
 * `y` = 300 + 0.02·income + 20000·ratio + N(0, 5²), so inputs and target are far from unit scale.
 */
function scalesTable(dir: string, n = 500): string {
  const rng = new RandomStream(5);
  const lines = ['income,ratio,y'];
  for (let i = 0; i < n; i++) {
    const income = 5000 * rng.next();
    const ratio = 0.01 * rng.next();
    const y = 300 + 0.02 * income + 20000 * ratio + 5 * rng.normal();
    lines.push(`${income.toFixed(2)},${ratio.toFixed(6)},${y.toFixed(3)}`);
  }
  const file = join(dir, 'scales.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const scalesConfig = (scale: string) => `
seed: 3
data:
  t:
    kind: csv
    path: scales.csv
    fields: { x: [income, ratio] }
    labels: { y: { column: y, kind: regression } }
    ${scale}
modules:
  net: { kind: mlp, inputSize: 2, hidden: [16], outputSize: 1, activation: relu }
tasks:
  y: { data: t, kind: regression, ops: [net], metrics: [mse, r2] }
training: { epochs: 15, lr: 0.01, batchSize: 32 }
`;

describe('scaling fitted on the train split', () => {
  it('turns a failing regression into a good one; metrics stay in the original units', async () => {
    const dir = tempDir();
    scalesTable(dir);
    const raw = join(dir, 'raw');
    const scaled = join(dir, 'scaled');
    const r1 = await cli('train', writeConfig(scalesConfig(''), 'raw.yaml', dir), '--out', raw, '--quiet');
    expect(r1.err).toBe('');
    const r2 = await cli(
      'train',
      writeConfig(scalesConfig('scale: { x: standard, y: standard }'), 'scaled.yaml', dir),
      '--out',
      scaled,
      '--quiet',
    );
    expect(r2.err).toBe('');
    const rawScores = readJson<Scores>(join(raw, 'scores.json'));
    const scaledScores = readJson<Scores>(join(scaled, 'scores.json'));
    expect(rawScores['y/t/test/r2']!).toBeLessThan(0);
    expect(scaledScores['y/t/test/r2']!).toBeGreaterThan(0.9);
    // mse in y's units (the noise alone is 25; the target's variance is about 3000), while the
    // loss is the training objective on standardised targets.
    expect(scaledScores['y/t/test/mse']!).toBeGreaterThan(20);
    expect(scaledScores['y/t/test/mse']!).toBeLessThan(300);
    expect(scaledScores['y/t/test/loss']!).toBeLessThan(0.1);

    // Saved with the model: score uses the saved scalers, not a refit. Doubling every income
    // would not change a refitted standardisation at all; with the saved one the fit breaks.
    const saved = readJson<{ data: { sources: { t: { t: { fields: { x: { offset: number[] } } } } } } }>(
      join(scaled, 'model', 'preprocessing.json'),
    );
    expect(saved.data.sources.t.t.fields.x.offset[0]).toBeGreaterThan(2000);
    expect(saved.data.sources.t.t.fields.x.offset[0]).toBeLessThan(3000);
    const file = join(dir, 'scales.csv');
    const doubled = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line, i) => (i === 0 ? line : line.replace(/^[^,]+/, (v) => String(2 * Number(v)))));
    writeFileSync(file, `${doubled.join('\n')}\n`);
    const rescored = await cli('score', scaled, '--json');
    expect(rescored.code).toBe(0);
    expect(JSON.parse(rescored.out)['y/t/test/r2']).toBeLessThan(0.5);

    // predict scales new rows with the saved scalers and answers in y's units.
    const input = join(dir, 'new.csv');
    writeFileSync(input, 'income,ratio\n2500,0.005\n0,0\n');
    const out = join(dir, 'pred.csv');
    expect((await cli('predict', scaled, '--task', 'y', '--input', input, '--output', out)).code).toBe(0);
    const values = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(',').at(-1)));
    expect(values[0]!).toBeGreaterThan(450 - 25); // truth 450
    expect(values[0]!).toBeLessThan(450 + 25);
    expect(values[1]!).toBeGreaterThan(300 - 40); // truth 300, at the edge of the data
    expect(values[1]!).toBeLessThan(300 + 40);
  });

  it('names the config path of a bad scale entry', async () => {
    const dir = tempDir();
    scalesTable(dir, 40);
    const unknown = await cli('validate', writeConfig(scalesConfig('scale: { z: standard }'), 'c.yaml', dir));
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('data.t.scale.z');
    expect(unknown.err).toContain('no field or label "z" to scale (fields: x; labels: y)');
    const method = await cli('validate', writeConfig(scalesConfig('scale: { x: zscore }'), 'd.yaml', dir));
    expect(method.code).toBe(2);
    expect(method.err).toContain('data.t.scale.x');
  });
});

describe('scaling in a vmtl run', () => {
  it('standardises each task dataset on its own train split and saves it with the model', async () => {
    const config = writeConfig(`
seed: 43
data:
  logistic: { kind: logistic_tasks, tasks: 2, sizes: 200, dim: 2, scale: { x: standard } }
tasks:
  task1: { data: logistic }
  task2: { data: logistic }
model: { kind: vmtl }
`);
    const prepared = await prepare(loadConfig(config));
    try {
      for (const task of ['task1', 'task2']) {
        const { train, test } = prepared.taskData[task]!.splits;
        const mean = (v: ArrayLike<number>, j: number) => {
          let s = 0;
          for (let i = j; i < v.length; i += 2) s += v[i]!;
          return s / (v.length / 2);
        };
        // Fitted on train: its mean is 0; the test split keeps its own offset (inputs ~ 5·N(0, I)).
        expect(Math.abs(mean(train!.fieldValues('x'), 0))).toBeLessThan(1e-5);
        expect(Math.abs(mean(test!.fieldValues('x'), 1))).toBeGreaterThan(1e-4);
      }
      expect(Object.keys(prepared.preprocessing.logistic!).sort()).toEqual(['task1Dataset', 'task2Dataset']);
    } finally {
      prepared.run.dispose();
    }
  });
});

describe('listings example: categorical, text and scaled numeric fields', () => {
  it('trains well above chance and predicts new rows with unknown categories and words', async () => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const before = tf.memory().numTensors;
    const r = await cli(
      'train',
      join(EXAMPLES, 'listings.yaml'),
      '--out',
      out,
      '--quiet',
      '--set',
      'training.epochs=10',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const scores = readJson<Scores>(join(out, 'scores.json'));
    // Chance: 0.5 for mood; r2 0 for price.
    expect(scores['mood/listings/test/accuracy']!).toBeGreaterThan(0.85);
    expect(scores['price/listings/test/r2']!).toBeGreaterThan(0.9);
    // In k€²: the noise alone is 15² = 225.
    expect(scores['price/listings/test/mse']!).toBeLessThan(600);
    const saved = readJson<{
      data: { sources: Record<string, Record<string, { fields: Record<string, { tokens?: string[] }> }>> };
    }>(join(out, 'model', 'preprocessing.json')).data.sources.listings!.listings!.fields;
    expect([...saved.city!.tokens!].sort()).toEqual([
      'airport',
      'centre',
      'harbour',
      'hills',
      'old_town',
      'river',
    ]);
    // minCount 2 drops the one-off typos; lower-casing merges "GREAT" into "great".
    expect(saved.review!.tokens!.some((t) => t.startsWith('typo'))).toBe(false);
    expect(saved.review!.tokens).toContain('great');
    expect(saved.review!.tokens!.every((t) => t === t.toLowerCase())).toBe(true);

    const input = join(dir, 'new.csv');
    writeFileSync(
      input,
      'city,area,age,review\nhills,100,10,GREAT quiet flat\nmars,100,10,awful damp noisy zzz\n',
    );
    const moods = join(dir, 'moods.csv');
    expect((await cli('predict', out, '--task', 'mood', '--input', input, '--output', moods)).code).toBe(0);
    expect(
      readFileSync(moods, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[1]),
    ).toEqual(['1', '0']);
    const prices = join(dir, 'prices.csv');
    expect((await cli('predict', out, '--task', 'price', '--input', input, '--output', prices)).code).toBe(0);
    const hills = Number(readFileSync(prices, 'utf8').trim().split('\n')[1]!.split(',').at(-1));
    expect(hills).toBeGreaterThan(269 - 40); // 2.2·100 − 1.1·10 + 60
    expect(hills).toBeLessThan(269 + 40);
  });

  it('refuses an embedding smaller than the fitted vocabulary', async () => {
    const r = await cli(
      'validate',
      join(EXAMPLES, 'listings.yaml'),
      '--set',
      'modules.word_emb={kind: embedding, vocabSize: 10, dim: 8}',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('tasks.mood.ops[0]');
    expect(r.err).toMatch(/module "word_emb" has vocabSize 10, but text field "review" uses \d+ ids/);
  });

  it('checks field options in the schema, naming the path', async () => {
    const several = await cli(
      'validate',
      join(EXAMPLES, 'listings.yaml'),
      '--set',
      'data.listings.fields.city={column: [city, area], kind: categorical}',
    );
    expect(several.code).toBe(2);
    expect(several.err).toContain('data.listings.fields.city');
    expect(several.err).toContain('a categorical field reads exactly one column');
    const misplaced = await cli(
      'validate',
      join(EXAMPLES, 'listings.yaml'),
      '--set',
      'data.listings.fields.city={column: city, kind: categorical, maxLength: 3}',
    );
    expect(misplaced.code).toBe(2);
    expect(misplaced.err).toContain('"maxLength" applies to text fields');
    const scaled = await cli(
      'validate',
      join(EXAMPLES, 'listings.yaml'),
      '--set',
      'data.listings.scale={city: standard}',
    );
    expect(scaled.code).toBe(2);
    expect(scaled.err).toContain('data.listings.scale.city');
    expect(scaled.err).toContain('field "city" is categorical: it cannot be scaled');
  });

  it('names the config path and file when a prefix matches no column', async () => {
    const r = await cli(
      'validate',
      join(EXAMPLES, 'listings.yaml'),
      '--set',
      'data.listings.fields.numbers={prefix: px}',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('data.listings.fields.numbers');
    expect(r.err).toContain('listings.csv:1');
    expect(r.err).toContain('prefix "px" matches no column');
  });
});

describe('training.shuffle', () => {
  const config = (shuffle: boolean) => `
seed: 4
data:
  c: { kind: circle, n: 100, splits: { train: 1 } }
modules:
  head: { kind: dense, inputSize: 2, units: 2 }
tasks:
  circle_task: { data: c, ops: [head] }
training: { batchSize: 10, shuffle: ${shuffle} }
`;
  const firstBatches = async (shuffle: boolean, epoch: number) => {
    const prepared = await prepare(loadConfig(writeConfig(config(shuffle))));
    try {
      const source = prepared.run.trainSource();
      const out: number[][] = [];
      for (const step of source.epoch(epoch, new RandomStream(1))) {
        out.push(Array.from(step[0]!.indices));
        source.dispose?.(step);
      }
      return out;
    } finally {
      prepared.run.dispose();
    }
  };

  it('reads rows in file order when off, a seeded reshuffle per epoch when on', async () => {
    const off = await firstBatches(false, 3);
    expect(off.flat()).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const on0 = await firstBatches(true, 0);
    const on1 = await firstBatches(true, 1);
    expect(on0.flat()).not.toEqual(off.flat());
    expect([...on0.flat()].sort((a, b) => a - b)).toEqual(off.flat());
    expect(on1.flat()).not.toEqual(on0.flat());
    expect(await firstBatches(true, 0)).toEqual(on0); // deterministic
  });
});

describe('text fields through embedding + meanPool', () => {
  it('pools only the real tokens: padding does not move the mean', () => {
    const before = tf.memory().numTensors;
    // Two rows of token dictionary ids: "a b" and "a b a c" (maxLength 4: the first row is padded).
    const ds = new DictDataset(
      'd',
      'train',
      { t: { values: Int32Array.from([0, 1, 0, 1, 0, 2]), offsets: [0, 2, 6] } },
      {},
      { dictionaries: { t: ['a', 'b', 'c'] } },
    );
    const ready = applyPreprocessing(ds, fitPreprocessing(ds));
    const emb = embedding({ vocabSize: 5, dim: 3, seed: 1 });
    const pool = meanPool();
    emb.build('emb');
    pool.build('pool');
    const batch = ready.collate([0, 1]);
    const ctx = { training: false, seed: 0 };
    const [pooled, firstTwo] = tf.tidy(() => {
      const vectors = emb.apply([batch.X.t!], ctx) as tf.Tensor;
      const out = pool.apply([vectors, batch.X.t_mask!], ctx) as tf.Tensor;
      // Row 0's true mean: its two real token vectors only.
      const real = tf.mean(tf.slice(vectors, [0, 0, 0], [1, 2, 3]), 1);
      return [out.arraySync() as number[][], real.arraySync() as number[][]];
    });
    for (let j = 0; j < 3; j++) expect(pooled[0]![j]!).toBeCloseTo(firstTwo[0]![j]!, 6);
    for (const t of Object.values(batch.X)) t.dispose();
    emb.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, tempDir, writeConfig } from './helpers.js';

/** Every file and folder under `dir` with its size and mtime: what "writes nothing" is checked against. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      out.push(`${relative(dir, p)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** JSONL files whose valid rows have 3 input values where the train rows have 2. */
function validOnlyShapeProblem(dir: string): string {
  const row = (x: number[], y: number) => `${JSON.stringify({ x, y })}\n`;
  writeFileSync(
    join(dir, 'train.jsonl'),
    Array.from({ length: 40 }, (_, i) => row([i / 40, 1 - i / 40], i % 2)).join(''),
  );
  writeFileSync(
    join(dir, 'valid.jsonl'),
    Array.from({ length: 10 }, (_, i) => row([i / 10, 0.5, 0.25], i % 2)).join(''),
  );
  return writeConfig(
    `data:
  s: { kind: jsonl, files: { train: train.jsonl, valid: valid.jsonl }, fields: { x: x }, labels: { y: y } }
modules:
  h: { kind: dense, inputSize: 2, units: 2 }
tasks:
  t: { data: s, ops: [h] }
training: { epochs: 2 }
`,
    'config.yaml',
    dir,
  );
}

const CSV_TASKS = join(EXAMPLES, 'csv-tasks.yaml');
const VMTL = join(EXAMPLES, 'vmtl-logistic.yaml');

interface Rejected {
  name: string;
  /** Config file (written into `dir` when a function). */
  config: string | ((dir: string) => string);
  set: string[];
  /** What the message must say. */
  expect: RegExp;
}

const REJECTED: Rejected[] = [
  {
    name: 'a regression head of 3 units for a 1-value target',
    config: CSV_TASKS,
    set: ['modules.yield_head.units=3', 'training.epochs=1'],
    expect: /DATA_SHAPE_MISMATCH.*task yield.*outputs 3 units but the targets have 1 value per row/,
  },
  {
    name: 'a checkpoint metric that never exists',
    config: CSV_TASKS,
    set: ['training.checkpointMetric=status/sensors/valid/acc', 'training.epochs=1'],
    expect: /training\.checkpointMetric.*"status\/sensors\/valid\/acc" is never produced/,
  },
  {
    name: 'an early-stopping metric of a split a VMTL config does not have',
    config: VMTL,
    set: ['training.earlyStopping={metric: task1/logistic/valid/accuracy, patience: 2}', 'training.epochs=1'],
    expect: /training\.earlyStopping\.metric.*never produced/,
  },
  {
    name: 'a metric that does not fit the task (accuracy of a regression)',
    config: (dir) =>
      writeConfig(
        `data:
  s: { kind: csv, path: ${join(EXAMPLES, 'data', 'yields.csv')}, fields: { x: [x1, x2, x3, x4] }, labels: { v: { column: yield, kind: regression } } }
modules:
  h: { kind: dense, inputSize: 4, units: 1 }
tasks:
  t: { data: s, label: v, kind: regression, ops: [h], metrics: [accuracy] }
training: { epochs: 1 }
`,
        'config.yaml',
        dir,
      ),
    set: [],
    expect: /LABEL_OUT_OF_RANGE.*task t on s\/train/,
  },
  {
    name: 'a valid split whose rows have another shape than the train split',
    config: validOnlyShapeProblem,
    set: [],
    expect: /tasks\.t\.ops: the operation sequence does not fit the valid split of "s" \(input x \[3\]\)/,
  },
];

describe('mtl validate runs the checks mtl train runs before its first step', () => {
  it.each(REJECTED.map((c) => [c.name, c] as const))(
    '%s: both exit 2, same message, nothing written',
    async (_n, c) => {
      const dir = tempDir();
      const config = typeof c.config === 'string' ? c.config : c.config(dir);
      const sets = c.set.flatMap((s) => ['--set', s]);
      const before = listing(dir);
      const cwdBefore = readdirSync(process.cwd());
      const tensors = tf.memory().numTensors;
      const validated = await cli('validate', config, ...sets);
      expect(validated.code, validated.out).toBe(2);
      expect(validated.err).toMatch(c.expect);
      expect(listing(dir)).toEqual(before);
      expect(readdirSync(process.cwd())).toEqual(cwdBefore);
      expect(tf.memory().numTensors).toBe(tensors);

      const out = join(dir, 'run');
      const trained = await cli('train', config, '--out', out, ...sets);
      expect(trained.code).toBe(2);
      expect(trained.err).toBe(validated.err);
      expect(existsSync(out)).toBe(false);
    },
  );

  it('a config validate accepts trains, and validate still writes nothing', async () => {
    const dir = tempDir();
    const config = validOnlyShapeProblem(dir);
    writeFileSync(
      join(dir, 'valid.jsonl'),
      Array.from({ length: 10 }, (_, i) => `${JSON.stringify({ x: [i / 10, 0.5], y: i % 2 })}\n`).join(''),
    );
    const before = listing(dir);
    const validated = await cli('validate', config);
    expect(validated.err).toBe('');
    expect(validated.out).toContain('task t: s [x] -> y (train 40, valid 10)');
    expect(listing(dir)).toEqual(before);
    const trained = await cli('train', config, '--out', join(dir, 'run'), '--quiet');
    expect(trained.code, trained.err).toBe(0);
  });
});

/** A regression whose learning rate makes the second step's loss non-finite (before any checkpoint). */
const DIVERGING = `seed: 1
data:
  s: { kind: csv, path: ${join(EXAMPLES, 'data', 'yields.csv')}, fields: { x: [x1, x2, x3, x4] }, labels: { v: { column: yield, kind: regression } } }
modules:
  h: { kind: mlp, inputSize: 4, hidden: [16], outputSize: 1 }
tasks:
  t: { data: s, label: v, kind: regression, ops: [h] }
training: { epochs: 2, lr: 1.0e+30, optimizer: { type: sgd } }
`;

describe('a run that fails before its first checkpoint removes what it created', () => {
  it('the failed run leaves no folder it made, and the corrected rerun into the same --out succeeds', async () => {
    const dir = tempDir();
    const config = writeConfig(DIVERGING, 'c.yaml', dir);
    // Two levels that do not exist yet: both are the run's to remove.
    const out = join(dir, 'runs', 'a');
    const failed = await cli('train', config, '--out', out);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/NON_FINITE_LOSS.*at step 1 /);
    expect(failed.err).not.toContain('is kept');
    expect(readdirSync(dir)).toEqual(['c.yaml']);

    const rerun = await cli('train', config, '--out', out, '--quiet', '--set', 'training.lr=0.01');
    expect(rerun.code, rerun.err).toBe(0);
    expect(existsSync(join(out, 'scores.json'))).toBe(true);
  });

  it('an empty --out that existed before stays (empty), and so do folders other runs use', async () => {
    const dir = tempDir();
    const config = writeConfig(DIVERGING, 'c.yaml', dir);
    mkdirSync(join(dir, 'mine'));
    const failed = await cli('train', config, '--out', join(dir, 'mine'));
    expect(failed.code).toBe(1);
    expect(readdirSync(join(dir, 'mine'))).toEqual([]);

    mkdirSync(join(dir, 'runs', 'other'), { recursive: true });
    writeFileSync(join(dir, 'runs', 'other', 'keep.txt'), 'x');
    expect((await cli('train', config, '--out', join(dir, 'runs', 'new', 'run'))).code).toBe(1);
    expect(readdirSync(join(dir, 'runs'))).toEqual(['other']);
  });

  it('a run that fails after a checkpoint keeps its folder for --resume', async () => {
    const dir = tempDir();
    const config = writeConfig(DIVERGING, 'c.yaml', dir);
    const out = join(dir, 'run');
    const failed = await cli(
      'train',
      config,
      '--out',
      out,
      '--set',
      'training.evalUnit=step',
      '--set',
      'training.evalEvery=1',
      '--set',
      'training.lr=1.0e+8',
    );
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/NON_FINITE_LOSS.*step [2-9]/);
    expect(existsSync(join(out, 'checkpoints', 'last.ckpt'))).toBe(true);
  });
});

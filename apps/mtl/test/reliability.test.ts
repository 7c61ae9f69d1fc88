import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILES, loadCheckpoint } from '@mtl/training';
import { describe, expect, it } from 'vitest';
import { train } from '../src/commands/train.js';
import { memoryProbe } from '../src/memory-probe.js';
import { cli, EXAMPLES, tempDir, writeConfig } from './helpers.js';

describe('non-finite values', () => {
  it('NaN and Infinity in an input file are refused at load, naming file, row and field', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'd.csv'), 'a,b,y\n0.1,0.2,1\n0.3,NaN,0\n0.5,0.6,1\n');
    const config = writeConfig(
      `data:\n  s: { kind: csv, path: d.csv, fields: { x: [a, b] }, labels: { y: y } }\nmodules:\n  h: { kind: dense, inputSize: 2, units: 2 }\ntasks:\n  t: { data: s, label: y, ops: [h] }\n`,
      'c.yaml',
      dir,
    );
    const r = await cli('train', config, '--out', join(dir, 'run'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('error [DATA_NON_FINITE]');
    expect(r.err).toContain('d.csv:3');
    expect(r.err).toContain('"b"');
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('a loss that becomes non-finite stops training within its step; the last good checkpoint stays', async () => {
    const dir = tempDir();
    // A regression with an absurd learning rate diverges within a few steps.
    const config = writeConfig(
      `seed: 1
data:
  s: { kind: csv, path: ${join(EXAMPLES, 'data', 'yields.csv')}, fields: { x: [x1, x2, x3, x4] }, labels: { v: { column: yield, kind: regression } } }
modules:
  h: { kind: mlp, inputSize: 4, hidden: [16], outputSize: 1 }
tasks:
  t: { data: s, label: v, kind: regression, ops: [h] }
training: { epochs: 5, lr: 1.0e+8, optimizer: { type: sgd }, evalUnit: step, evalEvery: 1 }
`,
      'c.yaml',
      dir,
    );
    const out = join(dir, 'run');
    const r = await cli('train', config, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error \[NON_FINITE_LOSS\]: .*(t\/s|task t).*step \d+.*(lr|learning rate)/);
    const last = await loadCheckpoint(join(out, 'checkpoints', CHECKPOINT_FILES.last));
    for (const w of last.weights) expect(Array.from(w.values).every(Number.isFinite), w.name).toBe(true);
    expect(existsSync(join(out, 'scores.json'))).toBe(false);
  });
});

describe('leaks', () => {
  it('numTensors is constant after the first epoch and RSS stays flat (short soak; full: npm run soak)', async () => {
    const probe = memoryProbe();
    await train({
      config: join(EXAMPLES, 'snorkel-basics.yaml'),
      out: join(tempDir(), 'soak'),
      quiet: true,
      set: ['training.epochs=15'],
      extraCallbacks: [probe.callbacks],
    });
    const counts = probe.samples.map((s) => s.numTensors);
    expect(counts).toHaveLength(15);
    expect(new Set(counts.slice(1)).size).toBe(1);
    const rss = probe.samples.map((s) => s.rssMb);
    expect(Math.abs(rss[14]! - rss[9]!) / rss[9]!).toBeLessThan(0.1);
  });
});

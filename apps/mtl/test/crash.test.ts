import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RandomStream } from '@mtl/core';
import { CHECKPOINT_FILES, loadCheckpoint, readMetricsJsonl } from '@mtl/training';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, tempDir } from './helpers.js';

const BIN = new URL('../bin/mtl.js', import.meta.url).pathname;
const CONFIG = join(EXAMPLES, 'snorkel-basics.yaml');
// Frequent checkpoints (every 5 steps) so that kills land before, between and during them.
const ARGS = [
  '--quiet',
  '--set',
  'training.epochs=12',
  '--set',
  'training.evalUnit=step',
  '--set',
  'training.evalEvery=5',
];

function mtl(...argv: string[]) {
  return spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 120_000 });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

async function waitFor(path: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const start = Date.now();
  while (!existsSync(path)) {
    if (child.exitCode !== null || Date.now() - start > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('crash safety: SIGKILL at random moments, then --resume', () => {
  it('two processes with the same seed write identical scores.json; another seed differs', () => {
    const dir = tempDir();
    for (const [name, extra] of [
      ['a', []],
      ['b', []],
      ['c', ['--set', 'seed=5']],
    ] as const) {
      const r = mtl('train', CONFIG, '--out', join(dir, name), ...ARGS, ...extra);
      expect(r.status, r.stderr).toBe(0);
    }
    const a = readFileSync(join(dir, 'a', 'scores.json'), 'utf8');
    expect(readFileSync(join(dir, 'b', 'scores.json'), 'utf8')).toBe(a);
    expect(readFileSync(join(dir, 'c', 'scores.json'), 'utf8')).not.toBe(a);
  });

  it('20 kills: each run directory loads, resume completes, scores.json is bit-identical', async () => {
    const dir = tempDir();
    const baseline = join(dir, 'baseline');
    const t0 = Date.now();
    const base = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', baseline, ...ARGS]);
    await waitFor(join(baseline, 'config.resolved.yaml'), base, 60_000);
    const t1 = Date.now();
    expect(await exited(base)).toBe(0);
    const trainingMs = Date.now() - t1;
    expect(t1 - t0).toBeGreaterThan(0);
    const expected = readFileSync(join(baseline, 'scores.json'), 'utf8');

    const rng = new RandomStream(2026);
    let midRun = 0;
    let withCheckpoint = 0;
    let midWrite = 0;
    const temporaries = (out: string) =>
      ['', 'checkpoints', 'model'].flatMap((d) =>
        existsSync(join(out, d)) ? readdirSync(join(out, d)).filter((f) => f.endsWith('.tmp')) : [],
      );
    for (let i = 0; i < 20; i++) {
      const out = join(dir, `killed-${i}`);
      const child = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', out, ...ARGS]);
      const done = exited(child);
      // Kill at a uniform moment of the training phase (the run directory exists from its start).
      if (await waitFor(join(out, 'config.resolved.yaml'), child, 60_000)) {
        await new Promise((r) => setTimeout(r, rng.next() * trainingMs));
      }
      child.kill('SIGKILL');
      await done;
      if (!existsSync(join(out, 'scores.json'))) midRun++;
      if (temporaries(out).length > 0) midWrite++;

      // The directory loads: a torn metrics line is ignored, the last checkpoint verifies.
      if (existsSync(join(out, 'metrics.jsonl'))) await readMetricsJsonl(join(out, 'metrics.jsonl'));
      const last = join(out, 'checkpoints', CHECKPOINT_FILES.last);
      if (existsSync(last)) {
        withCheckpoint++;
        const ckpt = await loadCheckpoint(last);
        expect(ckpt.trainer).toBeDefined();
      }
      const resumed = mtl('train', '--resume', out, '--quiet');
      expect(resumed.status, `kill ${i}: ${resumed.stderr}`).toBe(0);
      expect(readFileSync(join(out, 'scores.json'), 'utf8'), `kill ${i}`).toBe(expected);
      expect(temporaries(out)).toEqual([]);
    }
    expect(midRun).toBeGreaterThanOrEqual(15);
    expect(withCheckpoint).toBeGreaterThanOrEqual(10);
    console.log(
      `kills: ${midRun}/20 before the scores, ${withCheckpoint} after a checkpoint, ${midWrite} mid-write`,
    );
  }, 600_000);

  it('a torn metrics line and a leftover temporary checkpoint do not stop a resume', async () => {
    const out = join(tempDir(), 'run');
    const child = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', out, ...ARGS]);
    const done = exited(child);
    await waitFor(join(out, 'checkpoints', CHECKPOINT_FILES.last), child, 60_000);
    child.kill('SIGKILL');
    await done;
    // What a kill in the middle of writing leaves: half a JSON line, half a temporary checkpoint.
    writeFileSync(
      join(out, 'metrics.jsonl'),
      `${readFileSync(join(out, 'metrics.jsonl'), 'utf8')}{"step":99,"ep`,
    );
    writeFileSync(join(out, 'checkpoints', '.last.ckpt.1234.deadbeef.tmp'), Buffer.alloc(100, 7));
    const records = await readMetricsJsonl(join(out, 'metrics.jsonl'));
    expect(records.every((r) => Number.isFinite(r.step))).toBe(true);
    const resumed = mtl('train', '--resume', out, '--quiet');
    expect(resumed.status, resumed.stderr).toBe(0);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.at(-1)).toMatch(/^\{"step":\d+/);
  });
});

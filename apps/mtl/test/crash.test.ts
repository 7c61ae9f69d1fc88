import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RandomStream } from '@mtl/core';
import { CHECKPOINT_FILES, loadCheckpoint } from '@mtl/training';
import { readMetricsJsonl } from '@mtl/training/node';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, tempDir } from './helpers.js';

const BIN = new URL('../bin/mtl.js', import.meta.url).pathname;
const CONFIG = join(EXAMPLES, 'snorkel-basics.yaml');
// Frequent checkpoints (every 5 steps) so that kills land before, between and during them.
// Time bounds in this file only keep a broken run from hanging the suite: no result depends on them.
const ARGS = [
  '--quiet',
  '--set',
  'training.epochs=6',
  '--set',
  'training.evalUnit=step',
  '--set',
  'training.evalEvery=5',
];

function mtl(...argv: string[]) {
  return spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 600_000 });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/**
 * Resolves true once `ready()` holds, false if the child exits first. Polls the file system: the
 * moment is defined by what the run has written, never by elapsed time (the 600 s bound only
 * keeps a broken run from hanging the suite).
 */
async function until(ready: () => boolean, child: ChildProcess): Promise<boolean> {
  const start = Date.now();
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() - start > 600_000) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** Number of complete lines in metrics.jsonl (one per evaluation); re-counted only when it grew. */
function metricsLines(out: string): () => number {
  const file = join(out, 'metrics.jsonl');
  let size = -1;
  let lines = 0;
  return () => {
    if (!existsSync(file)) return 0;
    const now = statSync(file).size;
    if (now !== size) {
      size = now;
      lines = readFileSync(file, 'utf8').split('\n').length - 1;
    }
    return lines;
  };
}

/**
 * Kills `child` while it writes a checkpoint: the moment a temporary `.last.ckpt.*.tmp` or
 * `.best.ckpt.*.tmp` appears in `dir` (writeFileAtomic writes and fsyncs it before the rename).
 */
function killMidCheckpoint(dir: string, child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, (_event, name) => {
      if (typeof name === 'string' && name.endsWith('.tmp')) {
        child.kill('SIGKILL');
        watcher.close();
        resolve();
      }
    });
    child.on('exit', () => {
      watcher.close();
      resolve();
    });
  });
}

// Kills of the main case: 2 before any checkpoint, 4 in the middle of writing one, the rest right
// after an evaluation's metrics line (each kill is two CLI processes: CI time is budgeted).
const KILLS = 12;

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
  }, 600_000);

  it(`${KILLS} kills: each run directory loads, resume completes, scores.json is bit-identical`, async () => {
    const dir = tempDir();
    const baseline = join(dir, 'baseline');
    const base = mtl('train', CONFIG, '--out', baseline, ...ARGS);
    expect(base.status, base.stderr).toBe(0);
    const expected = readFileSync(join(baseline, 'scores.json'), 'utf8');
    // One metrics line per evaluation (every 5 steps): the kill moments are chosen among them.
    const evaluations = readFileSync(join(baseline, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    expect(evaluations).toBeGreaterThanOrEqual(60);

    const rng = new RandomStream(2026);
    let midRun = 0;
    let withCheckpoint = 0;
    let midWrite = 0;
    const temporaries = (out: string) =>
      ['', 'checkpoints', 'model'].flatMap((d) =>
        existsSync(join(out, d)) ? readdirSync(join(out, d)).filter((f) => f.endsWith('.tmp')) : [],
      );
    for (let i = 0; i < KILLS; i++) {
      const out = join(dir, `killed-${i}`);
      const child = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', out, ...ARGS]);
      const done = exited(child);
      // Kills 0-1: as soon as the run directory exists (before any checkpoint). Kills 2-5: in the
      // middle of writing a checkpoint, after the k-th evaluation. The others: right after the
      // k-th evaluation's metrics line, k uniform over the first 60% of the run.
      const k = 2 + Math.floor(rng.next() * (0.6 * evaluations - 2));
      if (i < 2) {
        if (await until(() => existsSync(join(out, 'config.resolved.yaml')), child)) child.kill('SIGKILL');
      } else if (i < 6) {
        const lines = metricsLines(out);
        if (await until(() => lines() >= k, child)) await killMidCheckpoint(join(out, 'checkpoints'), child);
      } else {
        const lines = metricsLines(out);
        if (await until(() => lines() >= k, child)) child.kill('SIGKILL');
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
    // Every kill lands before the run ends: its moment is a point of its progress, not of time.
    expect(midRun).toBe(KILLS);
    expect(withCheckpoint).toBeGreaterThanOrEqual(KILLS - 2);
    console.log(
      `kills: ${midRun}/${KILLS} before the scores, ${withCheckpoint} after a checkpoint, ${midWrite} mid-write`,
    );
  }, 1_800_000);

  for (const method of ['famo', 'uncertainty']) {
    it(`with weighting ${method}: its state and variables survive SIGKILL, resume is bit-identical`, async () => {
      const dir = tempDir();
      // Both weigh every task's loss in each step: the `mixed` scheduler gives them all.
      const args = [
        ...ARGS,
        '--set',
        `training.weighting.method=${method}`,
        '--set',
        'training.scheduler=mixed',
      ];
      const base = mtl('train', CONFIG, '--out', join(dir, 'baseline'), ...args);
      expect(base.status, base.stderr).toBe(0);
      const expected = readFileSync(join(dir, 'baseline', 'scores.json'), 'utf8');
      const evaluations = readFileSync(join(dir, 'baseline', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n');
      // The method's weights move during the run (else a lost state could go unnoticed).
      const weight = (line: string) =>
        (JSON.parse(line) as Record<string, number>)['circle_task/all/train/weight'];
      expect(weight(evaluations.at(-1)!)).not.toBe(weight(evaluations[0]!));
      for (const k of [3, Math.floor(evaluations.length / 2)]) {
        const out = join(dir, `killed-${k}`);
        const child = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', out, ...args]);
        const done = exited(child);
        const lines = metricsLines(out);
        expect(await until(() => lines() >= k, child)).toBe(true);
        child.kill('SIGKILL');
        await done;
        const ckpt = await loadCheckpoint(join(out, 'checkpoints', CHECKPOINT_FILES.last));
        expect(ckpt.trainer!.aggregator!.name).toBe(method);
        const resumed = mtl('train', '--resume', out, '--quiet');
        expect(resumed.status, `kill at ${k}: ${resumed.stderr}`).toBe(0);
        expect(readFileSync(join(out, 'scores.json'), 'utf8'), `kill at ${k}`).toBe(expected);
      }
    }, 900_000);
  }

  it('a torn metrics line and a leftover temporary checkpoint do not stop a resume', async () => {
    const out = join(tempDir(), 'run');
    const child = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', out, ...ARGS]);
    const done = exited(child);
    await until(() => existsSync(join(out, 'checkpoints', CHECKPOINT_FILES.last)), child);
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
  }, 600_000);
});

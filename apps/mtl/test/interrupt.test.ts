import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILES, loadCheckpoint } from '@mtl/training';
import { readMetricsJsonl } from '@mtl/training/node';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, tempDir } from './helpers.js';

const BIN = new URL('../bin/mtl.js', import.meta.url).pathname;
const CONFIG = join(EXAMPLES, 'snorkel-basics.yaml');
const ARGS = ['--quiet', '--set', 'training.epochs=4'];

interface Finished {
  code: number | null;
  stderr: string;
}

function start(out: string, ...extra: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [BIN, 'train', CONFIG, '--out', out, ...ARGS, ...extra]);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  child.stdout!.resume();
  const done = new Promise<Finished>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, done };
}

/** Resolves once `reached()` holds (progress, not elapsed time); false if the run ended first. */
async function progress(child: ChildProcess, reached: () => boolean): Promise<boolean> {
  for (;;) {
    if (reached()) return true;
    if (child.exitCode !== null) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves once metrics.jsonl holds a complete line; false if the run ended first. */
function firstMetricsLine(out: string, child: ChildProcess): Promise<boolean> {
  const file = join(out, 'metrics.jsonl');
  return progress(child, () => existsSync(file) && readFileSync(file, 'utf8').includes('\n'));
}

/**
 * Resolves once the first last.ckpt exists (it appears by an atomic rename, so whole), i.e. after
 * the first evaluation's checkpoint: the metrics line is written before it, so a signal right after
 * that line can land before any checkpoint exists.
 */
function firstCheckpoint(out: string, child: ChildProcess): Promise<boolean> {
  return progress(child, () => existsSync(join(out, 'checkpoints', CHECKPOINT_FILES.last)));
}

const temporaries = (out: string) =>
  ['', 'checkpoints', 'model'].flatMap((d) =>
    existsSync(join(out, d)) ? readdirSync(join(out, d)).filter((f) => f.endsWith('.tmp')) : [],
  );

describe('Ctrl-C during mtl train', () => {
  it('SIGINT: finishes the step, writes last.ckpt, says how to resume, exits 130; --resume ends bit-identical', async () => {
    const dir = tempDir();
    const baseline = join(dir, 'baseline');
    const b = spawnSync(process.execPath, [BIN, 'train', CONFIG, '--out', baseline, ...ARGS], {
      encoding: 'utf8',
    });
    expect(b.status, b.stderr).toBe(0);
    const expected = readFileSync(join(baseline, 'scores.json'), 'utf8');

    const out = join(dir, 'interrupted');
    const { child, done } = start(out);
    expect(await firstMetricsLine(out, child)).toBe(true);
    child.kill('SIGINT');
    const { code, stderr } = await done;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('SIGINT: stopping after the current step');
    expect(stderr).toContain(`Resume with: mtl train --resume ${out}`);
    expect(temporaries(out)).toEqual([]);
    // Nothing of a finished run: the run directory is resumable, not done.
    expect(existsSync(join(out, 'scores.json'))).toBe(false);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    const ckpt = await loadCheckpoint(join(out, 'checkpoints', CHECKPOINT_FILES.last));
    const history = await readMetricsJsonl(join(out, 'metrics.jsonl'));
    expect(ckpt.trainer!.step).toBeGreaterThanOrEqual(history[0]!.step);
    expect(ckpt.trainer!.step).toBeLessThan(4 * 50);
    expect(stderr).toContain(
      `interrupted after step ${ckpt.trainer!.step} (${ckpt.trainer!.epoch} epochs completed)`,
    );

    const resumed = spawnSync(process.execPath, [BIN, 'train', '--resume', out, '--quiet'], {
      encoding: 'utf8',
    });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(join(out, 'scores.json'), 'utf8')).toBe(expected);
  });

  it('a second signal exits at once (130) and leaves no temporary file', async () => {
    const out = join(tempDir(), 'run');
    const { child, done } = start(out, '--set', 'training.evalUnit=step', '--set', 'training.evalEvery=1');
    // A checkpoint is written at every step from here on, so the signals can land mid-write.
    expect(await firstCheckpoint(out, child)).toBe(true);
    child.kill('SIGTERM');
    child.kill('SIGTERM');
    const { code, stderr } = await done;
    expect(code, stderr).toBe(130);
    expect(temporaries(out)).toEqual([]);
    // Whatever moment it hit (before, during or after a checkpoint write), last.ckpt is whole.
    const ckpt = await loadCheckpoint(join(out, 'checkpoints', CHECKPOINT_FILES.last));
    expect(ckpt.trainer!.step).toBeGreaterThan(0);
  });
});

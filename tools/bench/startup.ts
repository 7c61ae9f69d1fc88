// Start-up of `mtl train`: process start to first output and to the end of the first training
// step, and end to end, for the shipped examples, with where the time goes (the CLI's `mtl:*`
// performance marks, read back through startup-marks.mjs). As the `startup` row of `npm run bench`,
// or alone with a breakdown per phase (medians over the runs):
//   node --conditions=source --import tsx tools/bench/startup.ts [--runs N] [--backend wasm] [--with-torch]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { nativeStatus } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { bundleIsFresh, staleProjects } from '../../apps/mtl/bin/built.mjs';
import { median, type Repetition, type Workload } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'apps/mtl/bin/mtl.js');
const preload = pathToFileURL(fileURLToPath(new URL('./startup-marks.mjs', import.meta.url))).href;

/** The examples timed: the Snorkel tutorial (seed 003) and the VMTL elementary example (seeds 001/002). */
export const STARTUP_EXAMPLES: Record<string, string> = {
  tutorial: 'apps/mtl/examples/snorkel-basics.yaml',
  vmtl: 'apps/mtl/examples/vmtl-logistic.yaml',
};

/** The marks, in the order they happen (see apps/mtl/bin/mtl.js, src/commands/train.ts, src/prepare.ts). */
export const PHASES = [
  'bin',
  'imported',
  'config',
  'backend',
  'data',
  'model',
  'preflight',
  'first-output',
  'first-step',
  'exit',
] as const;

export interface StartupRun {
  /** Wall ms since process start at each mark. */
  ms: Record<string, number>;
  /** CPU ms (user + system, all threads) since process start at each mark. */
  cpuMs: Record<string, number>;
  /** What bin/mtl.js ran: the bundle, dist/main.js, or the sources through tsx (dist stale). */
  from: 'bundle' | 'dist' | 'source';
}

/** Runs `mtl train CONFIG` once in a fresh process (into a temporary run directory) and reads its marks. */
export function runStartup(
  config: string,
  options: { backend?: string; env?: NodeJS.ProcessEnv; set?: string[] } = {},
): StartupRun {
  // bin/mtl.js runs the bundle or dist/ when they are as new as every source, else the sources.
  const env = { ...process.env, ...options.env };
  const tsconfig = join(root, 'apps/mtl/tsconfig.build.json');
  const from =
    env.MTL_FROM_SOURCE === '1' || staleProjects(tsconfig).length > 0
      ? 'source'
      : env.MTL_BUNDLE !== '0' && bundleIsFresh(join(root, 'apps/mtl/dist/bundle/mtl.mjs'), tsconfig)
        ? 'bundle'
        : 'dist';
  const out = mkdtempSync(join(os.tmpdir(), 'mtl-startup-'));
  const marksFile = join(out, 'marks.json');
  try {
    const args = ['--import', preload, bin, 'train', join(root, config), '--out', join(out, 'run')];
    if (options.backend !== undefined) args.push('--backend', options.backend);
    for (const set of options.set ?? []) args.push('--set', set);
    const run = spawnSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...env, MTL_STARTUP_MARKS: marksFile },
    });
    if (run.status !== 0) throw new Error(`mtl train ${config} failed (${run.status}): ${run.stderr.trim()}`);
    const marks = JSON.parse(readFileSync(marksFile, 'utf8')) as Array<{
      name: string;
      ms: number;
      cpuMs: number;
    }>;
    const ms: Record<string, number> = {};
    const cpuMs: Record<string, number> = {};
    for (const m of marks) {
      // The first of each (a mark may repeat, e.g. per solo model of `compare`).
      if (ms[m.name] !== undefined) continue;
      ms[m.name] = m.ms;
      cpuMs[m.name] = m.cpuMs;
    }
    for (const need of ['first-output', 'first-step', 'exit']) {
      if (ms[need] === undefined) throw new Error(`mtl train ${config}: no "${need}" mark (is dist built?)`);
    }
    const summary = JSON.parse(readFileSync(join(out, 'run', 'summary.json'), 'utf8')) as { steps: number };
    ms.steps = summary.steps;
    return { ms, cpuMs, from };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The backend flag and environment that make the child run on what this bench process runs on. */
function childBackend(): { backend: string; env: NodeJS.ProcessEnv } {
  const name = tf.getBackend();
  const backend = name === 'tensorflow' ? 'node' : name;
  return { backend, env: backend === 'wasm' && !nativeStatus().active ? { MTL_NATIVE: '0' } : {} };
}

/** One repetition of the startup row for an example (`tutorial` or `vmtl`). */
export function startupRepetition(example: string, quick = false): Repetition {
  const { backend, env } = childBackend();
  // Quick: one epoch (the time to the first step is the same; end to end is shorter).
  const set = quick ? ['training.epochs=1'] : [];
  const run = runStartup(STARTUP_EXAMPLES[example]!, { backend, env, set });
  const { ms, cpuMs } = run;
  return {
    ms: ms['first-step']!,
    cpuMs: cpuMs['first-step']!,
    steps: 1,
    examples: 0,
    flops: 0,
    notes: {
      firstOutputMs: ms['first-output']!,
      importedMs: ms.imported ?? 0,
      endToEndMs: ms.exit!,
      endToEndCpuMs: cpuMs.exit!,
      trainSteps: ms.steps!,
      from: run.from,
    },
  };
}

const EXAMPLE_NAMES = Object.keys(STARTUP_EXAMPLES);

/**
 * `startup`: `mtl train` on a shipped example in a fresh process. The timed part is process start
 * to the end of the first training step (the row's ms/step and CPU ms/step); the notes give the
 * first output line, the whole run end to end (wall and CPU) and when the modules were loaded.
 */
export const startup: Workload = {
  id: 'startup',
  title: 'mtl train: process start to first step (fresh process)',
  variants: EXAMPLE_NAMES.map((name, example) => ({ name, params: { example } })),
  warmup: 'none',
  async run({ example = 0 }, { quick }) {
    return startupRepetition(EXAMPLE_NAMES[example]!, quick);
  },
};

function fmt(x: number | undefined): string {
  return x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      backend: { type: 'string' },
      'with-torch': { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
    },
  });
  const runs = Number(values.runs);
  const env = Object.fromEntries((values.env ?? []).map((kv) => kv.split('=', 2) as [string, string]));
  console.log(`load average ${os.loadavg()[0]!.toFixed(1)} at start; ${runs} fresh processes per example`);
  for (const [name, config] of Object.entries(STARTUP_EXAMPLES)) {
    const all: StartupRun[] = [];
    for (let i = 0; i < runs; i++)
      all.push(runStartup(config, { ...(values.backend ? { backend: values.backend } : {}), env }));
    console.log(
      `\n${name} (${config}, ${all[0]!.ms.steps} steps, ${[...new Set(all.map((r) => r.from))].join(', ')}):`,
    );
    console.log(
      'mark           wall ms (median)  CPU ms (median)  wall ms since previous  CPU ms since previous',
    );
    let prev: string | undefined;
    for (const phase of PHASES) {
      const w = median(all.map((r) => r.ms[phase] ?? Number.NaN));
      const c = median(all.map((r) => r.cpuMs[phase] ?? Number.NaN));
      if (Number.isNaN(w)) continue;
      const dw = prev === undefined ? w : median(all.map((r) => r.ms[phase]! - r.ms[prev!]!));
      const dc = prev === undefined ? c : median(all.map((r) => r.cpuMs[phase]! - r.cpuMs[prev!]!));
      console.log(
        `${phase.padEnd(14)} ${fmt(w).padStart(16)} ${fmt(c).padStart(16)} ${fmt(dw).padStart(23)} ${fmt(dc).padStart(22)}`,
      );
      prev = phase;
    }
  }
  if (values['with-torch']) {
    const py = [process.env.MTL_BENCH_PYTHON, 'python3', '/usr/bin/python3'].find(
      (c) =>
        c !== undefined && c !== '' && spawnSync(c, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
    );
    if (py === undefined) {
      console.log('\n--with-torch: no python3 with torch found');
      return;
    }
    const times: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(py, ['-c', 'import time, torch; print(time.process_time())'], { encoding: 'utf8' });
      if (r.status !== 0) {
        console.log(`\n${py} -c "import torch": failed (${r.stderr.trim().split('\n').pop()})`);
        return;
      }
      times.push(performance.now() - t0);
      cpus.push(Number(r.stdout.trim()) * 1000);
    }
    console.log(
      `\n${py} -c "import torch" (the floor of any PyTorch peer's start-up): wall ${fmt(median(times))} ms, CPU ${fmt(median(cpus))} ms (medians of ${runs})`,
    );
  }
  console.log(`load average ${os.loadavg()[0]!.toFixed(1)} at end`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

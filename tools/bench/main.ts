// `npm run bench [-- --quick] [--long] [--json FILE] [--only W1,W5] [--backends wasm,cpu,wasm-mt] [--reps N] [--threads N] [--with-torch] [--methods upgrad,famo]`
// Benchmarks are not tests: they print figures and never assert on them.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type BackendName, nativeStatus, selectBackend } from '@mtl/core';
import { installNative, uninstallNative } from '@mtl/native';
import * as tf from '@tensorflow/tfjs';
import { formatResults, type Repetition, type Result, summarise, type Workload } from './harness.js';
import { startup } from './startup.js';
import { w1Snorkel } from './w1-snorkel.js';
import { w2Compute } from './w2-compute.js';
import { w3Vmtl, w4VmtlScaling } from './w3-vmtl.js';
import { w5Matmul } from './w5-matmul.js';
import { w6Midsize } from './w6-midsize.js';
import { formatW7, w7Weighting } from './w7-weighting.js';
import { w8DeepVmtl, w8Missing } from './w8-deep-vmtl.js';
import { activateThreadedWasm } from './wasm-threads.js';

const WORKLOADS: Workload[] = [
  startup,
  w1Snorkel,
  w2Compute,
  w3Vmtl,
  w4VmtlScaling,
  w5Matmul,
  w6Midsize,
  w7Weighting,
  w8DeepVmtl,
];
/** Run only when `--only` names them (W7 trains W2's model with every weighting method, and some on the representation). */
const OPT_IN = new Set(['W7']);
/**
 * `wasm` is what `selectBackend` gives (with @mtl/native's BLAS kernels when they load: labelled
 * `wasm+native`); `wasm-plain` the wasm backend on tfjs's own kernels (`MTL_NATIVE=0`), run only when
 * the native kernels loaded; `wasm-mt` the wasm backend's multithreaded build (see wasm-threads.ts),
 * run last, it replaces `wasm`.
 */
const BENCH_BACKENDS = ['node', 'wasm', 'wasm-plain', 'cpu', 'wasm-mt'] as const;
/** Timed steps of the PyTorch loop (`--with-torch`): as many as our repetition of the workload. */
const TORCH_STEPS: Record<string, (quick: boolean, long: boolean) => number> = {
  W2: (quick, long) => (quick ? 12 : long ? 1896 : 632),
  W6: (quick) => (quick ? 200 : 1252),
  W8: (quick) => (quick ? 10 : 60),
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    backends: { type: 'string' },
    reps: { type: 'string' },
    threads: { type: 'string' },
    long: { type: 'boolean', default: false },
    'with-torch': { type: 'boolean', default: false },
    methods: { type: 'string' },
  },
});
// W2 reads it: the whole 3-epoch run per repetition instead of one epoch.
if (values.long) process.env.MTL_BENCH_LONG = '1';
const quick = values.quick ?? false;
const only = values.only?.split(',').map((s) => s.trim().toUpperCase());
const reps = Number(values.reps ?? (quick ? 2 : 5));
const threads = Number(values.threads ?? Math.max(2, os.cpus().length));
const wanted = values.backends?.split(',').map((s) => s.trim()) ?? [...BENCH_BACKENDS];
// The threaded build replaces the single-threaded one in this process, so it runs last.
const rank = (b: string) => BENCH_BACKENDS.indexOf(b as (typeof BENCH_BACKENDS)[number]);
wanted.sort((a, b) => rank(a) - rank(b));
for (const b of wanted) {
  if (rank(b) < 0) {
    console.log(`unknown bench backend "${b}" (known: ${BENCH_BACKENDS.join(', ')})`);
    process.exit(2);
  }
}

/** Our label of what `selectBackend()` gives a user by default; its rows get `"default": true`. */
async function defaultLabel(): Promise<string> {
  const name = await selectBackend({ backend: 'auto' });
  return name === 'wasm' && nativeStatus().active ? 'wasm+native' : name;
}

/** Activates a bench backend; its label in the results, or undefined when it cannot load. */
async function activate(name: string): Promise<string | undefined> {
  try {
    if (name === 'wasm-mt') {
      // The threaded build's memory is a SharedArrayBuffer, which the native kernels do not take.
      uninstallNative('not used with the threaded wasm build');
      const got = await activateThreadedWasm(threads);
      return `wasm-mt${got}`;
    }
    if (name === 'wasm-plain') {
      await selectBackend({ backend: 'wasm' });
      if (!nativeStatus().registered) {
        console.log(
          'backend wasm-plain: skipped (the native kernels are not loaded: the wasm rows are plain)',
        );
        return undefined;
      }
      uninstallNative('tfjs kernels (bench backend wasm-plain)');
      return 'wasm';
    }
    await selectBackend({ backend: name as BackendName });
    if (name === 'wasm') {
      installNative();
      if (nativeStatus().active) return 'wasm+native';
    }
    return name;
  } catch (e) {
    console.log(`backend ${name}: not available (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/** A Python with torch importable (Debian's python3-torch), or undefined. */
function findTorchPython(): string | undefined {
  const candidates = [process.env.MTL_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

/** Runs tools/bench/torch_loop.py for a workload: its repetitions, or undefined if it failed. */
function runTorch(python: string, workload: Workload): Repetition[] | undefined {
  const steps = TORCH_STEPS[workload.id]!(quick, values.long ?? false);
  const script = new URL('./torch_loop.py', import.meta.url).pathname;
  const run = spawnSync(python, [script, workload.id, '--steps', String(steps), '--reps', String(reps)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    console.log(`torch ${workload.id}: failed (${run.stderr.trim().split('\n').pop()})`);
    return undefined;
  }
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const r = JSON.parse(line) as Repetition & { threads: number };
      return { ...r, flops: 0, notes: { threads: r.threads } };
    });
}

const loadBefore = os.loadavg();
const selected = WORKLOADS.filter((w) => (only ? only.includes(w.id.toUpperCase()) : !OPT_IN.has(w.id)));
// `--methods a,b`: W7's methods to time; weightedSum, the baseline of its ratios, always runs.
const methods = values.methods?.split(',').map((s) => s.trim());
const variantsOf = (w: Workload) =>
  w.id === 'W7' && methods
    ? w.variants.filter((v) => v.name === 'weightedSum' || methods.includes(v.name))
    : w.variants;
const results: Result[] = [];
const byDefault = await defaultLabel();
const nativeDetail = nativeStatus().detail;
/** The PyTorch loop's examples/s per workload, measured in this run. */
const torchSpeed = new Map<string, number>();
if (values['with-torch']) {
  const python = findTorchPython();
  if (python === undefined) {
    console.log('--with-torch: no python3 with torch found (Debian: apt-get install python3-torch); skipped');
  }
  for (const workload of selected) {
    if (python === undefined || TORCH_STEPS[workload.id] === undefined) continue;
    const runs = runTorch(python, workload);
    if (runs === undefined) continue;
    const result = { ...summarise(workload, workload.variants[0]!.name, 'pytorch', runs), peers: [] };
    torchSpeed.set(workload.id, result.examplesPerSec);
    results.push(result);
    console.log(formatResults([result]).split('\n').slice(2).join('\n'));
  }
}
for (const name of wanted) {
  const label = await activate(name);
  if (label === undefined) continue;
  console.log(`backend ${label} (tfjs ${tf.getBackend()})`);
  for (const workload of selected) {
    // Start-up runs `mtl` in fresh processes, on what a user gets by default only.
    if (workload.id === 'startup' && label !== byDefault) continue;
    if (workload.id === 'W8' && w8Missing() !== undefined) {
      console.log(`W8: skipped (${w8Missing()})`);
      continue;
    }
    for (const variant of variantsOf(workload)) {
      // One untimed quick run first: JIT compilation and kernel setup are not what we measure.
      const warmup = workload.warmup ?? 'quick';
      if (warmup !== 'none')
        await workload.run(variant.params, { quick: quick || warmup === 'quick', seed: 999 });
      const runs = [];
      for (let r = 0; r < reps; r++) runs.push(await workload.run(variant.params, { quick, seed: 1000 + r }));
      const result: Result = summarise(workload, variant.name, label, runs);
      const torch = torchSpeed.get(workload.id);
      if (torch !== undefined) {
        const peer = { label: 'PyTorch loop, this run', metric: 'examplesPerSec' as const, value: torch };
        result.peers.unshift({ ...peer, ratio: result.examplesPerSec / torch });
      }
      if (label === byDefault) result.default = true;
      results.push(result);
      console.log(formatResults([result]).split('\n').slice(2).join('\n'));
    }
  }
}
const order = (r: Result) => selected.findIndex((w) => w.id === r.workload);
results.sort((a, b) => order(a) - order(b));
console.log(`\n${formatResults(results)}`);
if (results.some((r) => r.workload === 'W7')) console.log(`\n${formatW7(results)}`);
if (values.json) {
  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    node: process.version,
    // Other processes share the cores: the 1-minute load average before and after the run.
    loadAverage: [loadBefore[0], os.loadavg()[0]],
    wasmThreads: threads,
    native: nativeDetail,
  };
  writeFileSync(
    values.json,
    `${JSON.stringify({ date: new Date().toISOString(), machine, quick, reps, results }, null, 2)}\n`,
  );
  // Formatted as the repository's linter wants it (it checks JSON files too); best effort.
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  spawnSync(process.execPath, [biome, 'format', '--write', values.json], { stdio: 'ignore' });
  console.log(`written ${values.json}`);
}
// The wasm-mt workers are unref'd, but leave no doubt about the exit.
process.exit(0);

// `npm run bench [-- --quick] [--long] [--json FILE] [--only W1,W5] [--backends wasm,cpu,wasm-mt] [--reps N] [--threads N]`
// Benchmarks are not tests: they print figures and never assert on them.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName, selectBackend } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { formatResults, type Result, summarise, type Workload } from './harness.js';
import { w1Snorkel } from './w1-snorkel.js';
import { w2Compute } from './w2-compute.js';
import { w3Vmtl, w4VmtlScaling } from './w3-vmtl.js';
import { w5Matmul } from './w5-matmul.js';
import { activateThreadedWasm } from './wasm-threads.js';

const WORKLOADS: Workload[] = [w1Snorkel, w2Compute, w3Vmtl, w4VmtlScaling, w5Matmul];
/** `wasm-mt`: the wasm backend's multithreaded build (see wasm-threads.ts); run last, it replaces `wasm`. */
const BENCH_BACKENDS = [...BACKENDS, 'wasm-mt'] as const;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    backends: { type: 'string' },
    reps: { type: 'string' },
    threads: { type: 'string' },
    long: { type: 'boolean', default: false },
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
wanted.sort((a, b) => Number(a === 'wasm-mt') - Number(b === 'wasm-mt'));

/** Activates a bench backend; its label in the results, or undefined when it cannot load. */
async function activate(name: string): Promise<string | undefined> {
  try {
    if (name === 'wasm-mt') {
      const got = await activateThreadedWasm(threads);
      return `wasm-mt${got}`;
    }
    await selectBackend({ backend: name as BackendName });
    return name;
  } catch (e) {
    console.log(`backend ${name}: not available (${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const loadBefore = os.loadavg();
const selected = WORKLOADS.filter((w) => !only || only.includes(w.id));
const results: Result[] = [];
for (const name of wanted) {
  const label = await activate(name);
  if (label === undefined) continue;
  console.log(`backend ${label} (tfjs ${tf.getBackend()})`);
  for (const workload of selected) {
    for (const variant of workload.variants) {
      // One untimed quick run first: JIT compilation and kernel setup are not what we measure.
      const warmup = workload.warmup ?? 'quick';
      if (warmup !== 'none')
        await workload.run(variant.params, { quick: quick || warmup === 'quick', seed: 999 });
      const runs = [];
      for (let r = 0; r < reps; r++) runs.push(await workload.run(variant.params, { quick, seed: 1000 + r }));
      const result = summarise(workload, variant.name, label, runs);
      results.push(result);
      console.log(formatResults([result]).split('\n').slice(2).join('\n'));
    }
  }
}
const order = (r: Result) => selected.findIndex((w) => w.id === r.workload);
results.sort((a, b) => order(a) - order(b));
console.log(`\n${formatResults(results)}`);
if (values.json) {
  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '?',
    node: process.version,
    // Other processes share the cores: the 1-minute load average before and after the run.
    loadAverage: [loadBefore[0], os.loadavg()[0]],
    wasmThreads: threads,
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

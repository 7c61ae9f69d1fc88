// `npm run bench [-- --quick] [--json FILE] [--only W1,W5] [--backends wasm,cpu] [--reps N]`
// Benchmarks are not tests: they print figures and never assert on them.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName, selectBackend } from '@mtl/core';
import { formatResults, type Result, summarise, type Workload } from './harness.js';
import { w5Matmul } from './w5-matmul.js';

const WORKLOADS: Workload[] = [w5Matmul];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    only: { type: 'string' },
    backends: { type: 'string' },
    reps: { type: 'string' },
  },
});
const quick = values.quick ?? false;
const only = values.only?.split(',').map((s) => s.trim().toUpperCase());
const reps = Number(values.reps ?? (quick ? 2 : 5));
const wanted = (values.backends?.split(',') ?? [...BACKENDS]) as BackendName[];

const available: BackendName[] = [];
for (const b of wanted) {
  try {
    await selectBackend({ backend: b });
    available.push(b);
  } catch (e) {
    console.log(`backend ${b}: not available (${(e as Error).message})`);
  }
}

const results: Result[] = [];
for (const workload of WORKLOADS.filter((w) => !only || only.includes(w.id))) {
  for (const variant of workload.variants) {
    for (const backend of available) {
      await selectBackend({ backend });
      const runs = [];
      for (let r = 0; r < reps; r++) runs.push(await workload.run(variant.params, { quick, seed: 1000 + r }));
      const result = summarise(workload, variant.name, backend, runs);
      results.push(result);
      console.log(formatResults([result]).split('\n').slice(2).join('\n'));
    }
  }
}
console.log(`\n${formatResults(results)}`);
if (values.json) {
  writeFileSync(
    values.json,
    `${JSON.stringify({ date: new Date().toISOString(), quick, reps, results }, null, 2)}\n`,
  );
  console.log(`written ${values.json}`);
}

// `npm run soak [-- --epochs 100]`: trains the seed-003 example for many epochs and checks that
// tf.memory().numTensors is constant after the first epoch and that RSS stays within 10% of its
// value at epoch 10. Prints one line per 10 epochs; exits 1 on a leak.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { train } from '../apps/mtl/src/commands/train.js';
import { memoryProbe } from '../apps/mtl/src/memory-probe.js';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '100' } } });
const epochs = Number(values.epochs);
const dir = mkdtempSync(join(tmpdir(), 'mtl-soak-'));
const probe = memoryProbe();
await train({
  config: new URL('../apps/mtl/examples/snorkel-basics-inv-circle.yaml', import.meta.url).pathname,
  out: join(dir, 'run'),
  quiet: true,
  set: [`training.epochs=${epochs}`],
  extraCallbacks: [probe.callbacks],
});
rmSync(dir, { recursive: true, force: true });
for (const s of probe.samples.filter((x) => x.epoch % 10 === 0 || x.epoch === 1)) {
  console.log(`epoch ${String(s.epoch).padStart(4)}  tensors ${s.numTensors}  rss ${s.rssMb.toFixed(1)} MB`);
}
const after = probe.samples.slice(1).map((s) => s.numTensors);
const ref = probe.samples.find((s) => s.epoch === 10)?.rssMb ?? probe.samples[0]!.rssMb;
const worst = Math.max(
  ...probe.samples.filter((s) => s.epoch >= 10).map((s) => Math.abs(s.rssMb - ref) / ref),
);
const tensorsOk = new Set(after).size <= 1;
console.log(
  `tensors constant after epoch 1: ${tensorsOk}; largest RSS change from epoch 10: ${(worst * 100).toFixed(1)}%`,
);
process.exitCode = tensorsOk && worst < 0.1 ? 0 : 1;

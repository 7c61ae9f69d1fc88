import { RandomStream } from '@mtl/core';
import { DictDataLoader, DictDataset, scheduleBatches } from '@mtl/data';
import { dense, MultitaskModel, mlp, Operation, Task } from '@mtl/tasks';
import { Trainer } from '@mtl/training';
import { timed, type Workload } from './harness.js';

const TASKS = 4;
const DIM = 64;
const HIDDEN = [64, 32];
const PER_TASK = 10_000;
const BATCH = 32;
/** Forward FLOPs per example: Linear(64,64), Linear(64,32), one Linear(32,2) head. */
const FORWARD_FLOPS = 2 * (DIM * 64 + 64 * 32 + 32 * 2);

/**
 * Task k's data: x uniform in [-1, 1]^64, label 1[‖x − 0.5·e_k‖² < 64/3 + 0.25 + 0.1·(k − 1.5)]
 * (about balanced), as W2's recipe.
 */
function w6Dataset(k: number, n: number, seed: number): DictDataset {
  const rng = new RandomStream(seed).child(`w6/task${k}`);
  const x = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  const threshold = DIM / 3 + 0.25 + 0.1 * (k - 1.5);
  for (let i = 0; i < n; i++) {
    let d2 = 0;
    for (let j = 0; j < DIM; j++) {
      const v = Math.fround(2 * rng.next() - 1);
      x[i * DIM + j] = v;
      const d = v - (j === k ? 0.5 : 0);
      d2 += d * d;
    }
    y[i] = d2 < threshold ? 1 : 0;
  }
  return new DictDataset(
    `task${k}Dataset`,
    'train',
    { [`task${k}_data`]: { values: x, shape: [n, DIM] } },
    { [`task${k}`]: y },
    { numClasses: 2, copy: false },
  );
}

/**
 * W6: a mid-size multitask model. 4 tasks, 10,000 rows each, 64-D inputs, shared
 * Linear(64,64)-ReLU-Linear(64,32)-ReLU trunk, Linear(32,2) heads, Adam lr 1e-3, batch 32,
 * `shuffled` scheduler; a repetition times `Trainer.fit` over one epoch (1,252 batches; quick: 200).
 */
export const w6Midsize: Workload = {
  id: 'W6',
  title: 'mid-size MTL (4 tasks, 64-64-32 MLP, batch 32)',
  variants: [{ name: '4 tasks', params: {} }],
  peers: () => [{ label: 'PyTorch loop (issue #18: 55k ex/s)', metric: 'examplesPerSec', value: 55_000 }],
  async run(_params, { quick }) {
    const seed = 6;
    const data = Array.from({ length: TASKS }, (_, k) => w6Dataset(k, PER_TASK, seed));
    const loaders = data.map((d) => new DictDataLoader(d, { batchSize: BATCH, shuffle: true, seed }));
    const base = mlp({ inputSize: DIM, hidden: HIDDEN });
    const tasks = data.map(
      (_, k) =>
        new Task({
          name: `task${k}`,
          modulePool: { base_mlp: base, [`task${k}_head`]: dense({ inputSize: HIDDEN[1]!, units: 2 }) },
          opSequence: [
            new Operation({ moduleName: 'base_mlp', inputs: [['_input_', `task${k}_data`]] }),
            new Operation({ moduleName: `task${k}_head`, inputs: ['base_mlp'] }),
          ],
        }),
    );
    const model = new MultitaskModel(tasks, { seed });
    const source = scheduleBatches(loaders, 'shuffled', { seed });
    const steps = quick ? 200 : source.batchesPerEpoch();
    const trainer = new Trainer({ epochs: 1, lr: 1e-3, seed, optimizer: { type: 'adam' }, steps });
    const result = await timed(() => trainer.fit(model, { train: source }));
    // A whole epoch sees every row once (each loader's last batch holds 16 rows).
    const examples = quick ? steps * BATCH : TASKS * PER_TASK;
    model.dispose();
    return {
      ms: result.ms,
      cpuMs: result.cpuMs,
      steps,
      examples,
      flops: 3 * FORWARD_FLOPS * examples,
      notes: { steps: `${steps}` },
    };
  },
};

import { RandomStream } from '@mtl/core';
import { DictDataLoader, DictDataset, scheduleBatches } from '@mtl/data';
import { dense, MultitaskModel, mlp, Operation, Task } from '@mtl/tasks';
import { Trainer } from '@mtl/training';
import * as tf from '@tensorflow/tfjs';
import { timed, type Workload } from './harness.js';

const TASKS = 8;
const DIM = 16;
const HIDDEN = 512;
const PER_TASK = 20_000;
const BATCH = 256;
const EPOCHS = 3;
/** Forward FLOPs per example: Linear(16,512), Linear(512,512), one Linear(512,2) head. */
const FORWARD_FLOPS = 2 * (DIM * HIDDEN + HIDDEN * HIDDEN + HIDDEN * 2);

/**
 * Task k's data: x uniform in [-1, 1]^16, label 1[‖x − c_k‖² < 16/3 + 0.25 + 0.1·(k − 3.5)] with
 * c_k = 0.5·e_k (E‖x − c_k‖² = 16/3 + 0.25, so labels are about balanced).
 */
export function w2Dataset(k: number, n: number, seed: number): DictDataset {
  const rng = new RandomStream(seed).child(`w2/task${k}`);
  const x = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  const threshold = 16 / 3 + 0.25 + 0.1 * (k - 3.5);
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
 * W2's data loaders (8 tasks, 20,000 rows each, batch 256, shuffled) and model (the shared
 * 16-512-512 trunk and one 512 -> 2 head per task `task<k>`), as every W2-based workload builds them.
 */
export function w2Setup(seed: number): { loaders: DictDataLoader[]; model: MultitaskModel } {
  const data = Array.from({ length: TASKS }, (_, k) => w2Dataset(k, PER_TASK, seed));
  const loaders = data.map((d) => new DictDataLoader(d, { batchSize: BATCH, shuffle: true, seed }));
  const base = mlp({ inputSize: DIM, hidden: [HIDDEN, HIDDEN] });
  const tasks = data.map(
    (_, k) =>
      new Task({
        name: `task${k}`,
        modulePool: { base_mlp: base, [`task${k}_head`]: dense({ inputSize: HIDDEN, units: 2 }) },
        opSequence: [
          new Operation({ moduleName: 'base_mlp', inputs: [['_input_', `task${k}_data`]] }),
          new Operation({ moduleName: `task${k}_head`, inputs: ['base_mlp'] }),
        ],
      }),
  );
  return { loaders, model: new MultitaskModel(tasks, { seed }) };
}

/**
 * W2: compute-bound multitask learning. 8 tasks, 20,000 examples each, shared
 * Linear(16,512)-ReLU-Linear(512,512)-ReLU, Linear(512,2) heads, Adam lr 1e-3, batch 256,
 * `shuffled` scheduler, 3 epochs = 1,896 batches; the timed part is `Trainer.fit` (no evaluation).
 * A repetition runs the first `steps` batches of that run: 632 (one epoch) by default, all 1,896
 * with `--long` (`MTL_BENCH_LONG=1`), 12 in quick mode, and 8 (quick: 3) on the cpu backend (about
 * 30× slower);
 * the throughput compares all the same (steady state, no per-epoch work). FLOPs count training as
 * 3× the forward pass.
 */
export const w2Compute: Workload = {
  id: 'W2',
  title: 'compute-bound MTL (8 tasks, 16-512-512 MLP, batch 256)',
  variants: [{ name: '8 tasks', params: {} }],
  peers: () => [
    { label: 'Snorkel (33.4k ex/s)', metric: 'examplesPerSec', value: 33_400 },
    { label: 'PyTorch loop (59.5k ex/s)', metric: 'examplesPerSec', value: 59_500 },
  ],
  async run(_params, { quick }) {
    const seed = 2;
    const { loaders, model } = w2Setup(seed);
    const source = scheduleBatches(loaders, 'shuffled', { seed });
    const full = source.batchesPerEpoch() * EPOCHS;
    const long = process.env.MTL_BENCH_LONG === '1';
    const cpu = tf.getBackend() === 'cpu';
    const cut = quick ? (cpu ? 3 : 12) : cpu ? 8 : long ? undefined : source.batchesPerEpoch();
    const trainer = new Trainer({
      epochs: EPOCHS,
      lr: 1e-3,
      seed,
      optimizer: { type: 'adam' },
      ...(cut === undefined ? {} : { steps: cut }),
    });
    const result = await timed(() => trainer.fit(model, { train: source }));
    const steps = cut ?? full;
    // A full run sees every example EPOCHS times (the last batch of a loader holds 32 rows).
    const examples = cut === undefined ? TASKS * PER_TASK * EPOCHS : steps * BATCH;
    model.dispose();
    return {
      ms: result.ms,
      cpuMs: result.cpuMs,
      steps,
      examples,
      flops: 3 * FORWARD_FLOPS * examples,
      notes: cut === undefined ? {} : { steps: `${cut} of ${full}` },
    };
  },
};

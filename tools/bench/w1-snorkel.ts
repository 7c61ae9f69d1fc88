import {
  DictDataLoader,
  type DictDataset,
  makeCircleDatasets,
  makeInvCircleDatasets,
  makeSquareDatasets,
  scheduleBatches,
} from '@mtl/data';
import { dense, MultitaskModel, mlp, Operation, Task } from '@mtl/tasks';
import { Trainer } from '@mtl/training';
import { timed, type Workload } from './harness.js';

const MAKERS: Record<string, (seed: number) => Record<string, DictDataset>> = {
  circle: (seed) => makeCircleDatasets({}, seed),
  square: (seed) => makeSquareDatasets({}, seed),
  inv_circle: (seed) => makeInvCircleDatasets({}, seed),
};

/** The tutorial's task: the shared 2-8-4 trunk then a 4 -> 2 head. */
function toyTask(name: string, base: ReturnType<typeof mlp>): Task {
  return new Task({
    name: `${name}_task`,
    modulePool: { base_mlp: base, [`${name}_head`]: dense({ inputSize: 4, units: 2 }) },
    opSequence: [
      new Operation({ moduleName: 'base_mlp', inputs: [['_input_', `${name}_data`]] }),
      new Operation({ moduleName: `${name}_head`, inputs: ['base_mlp'] }),
    ],
  });
}

/**
 * W1: Snorkel's multitask tutorial (seed 003 data): tasks circle + square (+ inv_circle for the
 * 3-task variant), shared 2-8-4 ReLU MLP, 4 -> 2 heads, Adam lr 0.02, batch 32, `shuffled`
 * scheduler, 10 epochs (500 / 750 batches); the timed part is `Trainer.fit` including one
 * valid-split evaluation per epoch. Every seed is 3 (the tutorial's seed-003 test uses it), so each
 * repetition trains the same model and the accuracies noted are the tutorial's.
 */
export const w1Snorkel: Workload = {
  id: 'W1',
  title: 'Snorkel tutorial (2-8-4 MLP, batch 32, 10 epochs)',
  variants: [
    { name: '2 tasks', params: { tasks: 2 } },
    { name: '3 tasks', params: { tasks: 3 } },
  ],
  // As throughputs, so that quick runs (3 epochs) compare too: 3 tasks = 24,000 examples in 0.885 s.
  peers: (variant) =>
    variant === '2 tasks'
      ? [{ label: 'Snorkel (0.555 s, 28.8k ex/s)', metric: 'examplesPerSec', value: 28_800 }]
      : [{ label: 'Snorkel (0.885 s, 27.1k ex/s)', metric: 'examplesPerSec', value: 24_000 / 0.885 }],
  warmup: 'full',
  async run({ tasks = 2 }, { quick }) {
    const names = ['circle', 'square', 'inv_circle'].slice(0, tasks);
    const seed = 3;
    const data = names.map((n) => MAKERS[n]!(seed));
    const train = data.map((d) => new DictDataLoader(d.train!, { batchSize: 32, shuffle: true, seed }));
    const valid = data.map((d) => new DictDataLoader(d.valid!, { batchSize: 32 }));
    const test = data.map((d) => new DictDataLoader(d.test!, { batchSize: 32 }));
    const base = mlp({ inputSize: 2, hidden: [8, 4] });
    const model = new MultitaskModel(
      names.map((n) => toyTask(n, base)),
      { seed },
    );
    const epochs = quick ? 3 : 10;
    const trainer = new Trainer({ epochs, lr: 0.02, seed, optimizer: { type: 'adam' } });
    const source = scheduleBatches(train, 'shuffled', { seed });
    const steps = source.batchesPerEpoch() * epochs;
    const examples = data.reduce((s, d) => s + d.train!.length, 0) * epochs;
    const { ms, cpuMs } = await timed(() =>
      trainer.fit(model, { train: source, evaluate: () => model.evaluate(valid, 'valid') }),
    );
    const scores = await model.score(test);
    model.dispose();
    const notes: Record<string, number> = {};
    for (const n of names)
      notes[`${n} test acc`] = scores[`${n}_task/${n}Dataset/test/accuracy`] ?? Number.NaN;
    return { ms, cpuMs, steps, examples, flops: 0, notes };
  },
};

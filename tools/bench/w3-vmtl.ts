import type { RandomStream } from '@mtl/core';
import { type Batch, makeLogisticTasks, StackedLoader } from '@mtl/data';
import { type BatchSource, Trainer } from '@mtl/training';
import { VmtlModel } from '@mtl/variational';
import { median, type Repetition, timed, type Workload } from './harness.js';

/**
 * Wraps a batch source to time each step: the time from handing out one step's batches to the
 * next request is the Trainer's step (loss, gradients, read-back, update; the Trainer asks for the
 * next batch before it logs or evaluates).
 */
function timedSource<B>(source: BatchSource<B>, stepMs: number[]): BatchSource<B> {
  return {
    batchesPerEpoch: () => source.batchesPerEpoch(),
    *epoch(epoch: number, rng: RandomStream) {
      for (const batch of source.epoch(epoch, rng)) {
        const handedOut = performance.now();
        yield batch;
        stepMs.push(performance.now() - handedOut);
      }
    },
    ...(source.dispose ? { dispose: (b: B) => source.dispose!(b) } : {}),
  };
}

/**
 * One VMTL run as the reference's seed example (REFERENCE.md §2): `tasks` logistic tasks of 600
 * examples in 2-D (linked in pairs, 480 train), batch 16 stacked over tasks, 10 classifier × 10
 * latent samples, point-mass latent, upper-bound mixture KL, Adam lr 1e-3, seed 43, 20 epochs =
 * 600 steps (60 in quick mode). The timed part is `Trainer.fit`.
 */
async function runVmtl(tasks: number, quick: boolean): Promise<Repetition> {
  const seed = 43;
  const data = makeLogisticTasks({ tasks }, seed);
  const loader = new StackedLoader(
    data.map((d) => d.train),
    { batchSize: 16, seed },
  );
  const model = new VmtlModel({
    tasks: data.map((d) => ({ name: d.name, dataset: d.train.name, trainSize: d.train.length })),
    inputDim: 2,
    classifierSamples: 10,
    latentSamples: 10,
    klSamples: 10,
    classifierKl: 'upperBound',
    name: `w3-${tasks}`,
  });
  const steps = quick ? 60 : 600;
  const trainer = new Trainer({ epochs: 20, steps, lr: 1e-3, seed, optimizer: { type: 'adam' } });
  const stepMs: number[] = [];
  const { ms, cpuMs } = await timed(() =>
    trainer.fit(model, { train: timedSource<Batch[]>(loader, stepMs) }),
  );
  const test = data.map((d) => d.test.collate(Int32Array.from({ length: d.test.length }, (_, i) => i)));
  const scores = model.score(test);
  for (const b of test) for (const t of [...Object.values(b.X), ...Object.values(b.Y)]) t.dispose();
  const alpha = model.alpha();
  model.dispose();
  const accs = Object.entries(scores)
    .filter(([k]) => k.endsWith('/accuracy'))
    .map(([, v]) => v);
  const notes: Record<string, number> = {
    'median step ms': median(stepMs),
    'mean step ms': stepMs.reduce((a, b) => a + b, 0) / stepMs.length,
    'mean test acc': accs.reduce((a, b) => a + b, 0) / accs.length,
  };
  if (alpha && tasks >= 2) notes['alpha[1][2]'] = alpha[0]![1]!;
  return { ms, cpuMs, steps, examples: steps * 16 * tasks, flops: 0, notes };
}

/** W3: the VMTL seed example (3 tasks); the reference implementation takes 2.26 ms per step. */
export const w3Vmtl: Workload = {
  id: 'W3',
  title: 'VMTL seed example (3 tasks, batch 16, 10x10 samples)',
  variants: [{ name: '3 tasks', params: { tasks: 3 } }],
  peers: () => [{ label: 'Python reference (2.26 ms/step)', metric: 'msPerStep', value: 2.26 }],
  warmup: 'full',
  run: ({ tasks = 3 }, { quick }) => runVmtl(tasks, quick),
};

/** W4: W3 with T = 2, 8, 32, 64 tasks (each 600 examples in 2-D, linked in pairs). */
export const w4VmtlScaling: Workload = {
  id: 'W4',
  title: 'VMTL scaling in the number of tasks',
  variants: [2, 8, 32, 64].map((t) => ({ name: `T=${t}`, params: { tasks: t } })),
  warmup: 'full',
  run: ({ tasks = 2 }, { quick }) => runVmtl(tasks, quick),
};

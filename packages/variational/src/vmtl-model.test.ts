import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, RandomStream, type Trainable } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  disposeStep,
  makeSeedExample,
  type SeedTask,
  splitBatch,
  stackedEpoch,
  take,
  testBatches,
  trainPlain,
  trueAccuracy,
  vmtlTasks,
} from './internal/test-utils.js';
import { type StackedStep, soloBaseline, VmtlModel, type VmtlModelOptions } from './vmtl-model.js';

const tasks = makeSeedExample();

function scoreOn(model: VmtlModel, data: readonly SeedTask[]): Record<string, number> {
  const batches = testBatches(data);
  try {
    return model.score(batches);
  } finally {
    disposeStep(batches);
  }
}

const accuracies = (scores: Record<string, number>) =>
  tasks.map((t) => scores[`${t.name}/${t.dataset}/test/accuracy`]!);

describe('VmtlModel on the seed example (REFERENCE.md §2)', () => {
  it('after 20 epochs α links tasks 1 and 2, and every accuracy is within 0.04 of the true w; solo trains too', () => {
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'accept_vmtl' });
    const solo = soloBaseline({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'accept_solo' });
    trainPlain(model, tasks, { epochs: 20, batchSize: 16, lr: 1e-3, seed: 43 });
    trainPlain(solo, tasks, { epochs: 20, batchSize: 16, lr: 1e-3, seed: 43 });
    const alpha = model.alpha()!;
    // alpha[t][i]: weight of task i in task t's prior (tasks 1, 2, 3 are rows/columns 0, 1, 2).
    expect(alpha[0]![1]!).toBeGreaterThan(alpha[0]![2]!);
    expect(alpha[1]![0]!).toBeGreaterThan(alpha[1]![2]!);
    expect(alpha[0]![1]!).toBeGreaterThanOrEqual(0.65);
    expect(alpha[1]![0]!).toBeGreaterThanOrEqual(0.65);
    expect(alpha[0]![0]).toBeNull();
    const truth = tasks.map(trueAccuracy);
    const vmtl = accuracies(scoreOn(model, tasks));
    const base = accuracies(scoreOn(solo, tasks));
    // Side by side: true w, VMTL, solo (measured: 0.683/0.650/0.925, 0.683/0.650/0.900, 0.683/0.650/0.900).
    truth.forEach((acc, t) => {
      expect(Math.abs(vmtl[t]! - acc)).toBeLessThanOrEqual(0.04);
      expect(Math.abs(base[t]! - acc)).toBeLessThanOrEqual(0.04);
    });
    expect(solo.alpha()).toBeNull();
    model.dispose();
    solo.dispose();
  });

  it('100 epochs: no NaN, α rows still sum to 1', () => {
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'long_vmtl' });
    trainPlain(model, tasks, { epochs: 100, seed: 7 });
    const params = take(model.posteriorParams.clone());
    expect(params.every(Number.isFinite)).toBe(true);
    const alpha = model.alpha()!;
    for (const row of alpha) {
      expect(row.every((v) => v === null || Number.isFinite(v))).toBe(true);
      expect(row.reduce((s: number, v) => s + (v ?? 0), 0)).toBeCloseTo(1, 5);
    }
    expect(alpha[0]![1]!).toBeGreaterThan(0.9);
    const scores = scoreOn(model, tasks);
    expect(Object.values(scores).every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('tasks of unequal sizes (600 / 300 / 100) train and score', () => {
    const uneven = makeSeedExample({ sizes: [600, 300, 100] });
    expect(uneven.map((t) => t.train.n)).toEqual([480, 240, 80]);
    const model = new VmtlModel({ tasks: vmtlTasks(uneven), inputDim: 2, name: 'uneven' });
    trainPlain(model, uneven, { epochs: 20 });
    const batches = testBatches(uneven);
    const scores = model.score(batches);
    disposeStep(batches);
    uneven.forEach((t) => {
      expect(scores[`${t.name}/${t.dataset}/test/accuracy`]).toBeGreaterThanOrEqual(trueAccuracy(t) - 0.1);
      expect(Number.isFinite(scores[`${t.name}/${t.dataset}/test/loss`])).toBe(true);
    });
    expect(model.alpha()![0]![1]!).toBeGreaterThan(model.alpha()![0]![2]!);
    model.dispose();
  });

  it('same seed, same α and accuracies', () => {
    const run = (name: string) => {
      const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name });
      trainPlain(model, tasks, { epochs: 2, seed: 5 });
      const out = { alpha: model.alpha(), scores: scoreOn(model, tasks) };
      model.dispose();
      return out;
    };
    expect(run('same_a')).toEqual(run('same_b'));
  });
});

describe('VmtlModel mechanics', () => {
  const rng = new RandomStream(3);
  const cursors = tasks.map((t) => ({ order: rng.permutation(t.train.n), pos: 0 }));
  const uneven = [
    splitBatch(tasks[0]!, 'train', [0, 1, 2, 3, 4]),
    splitBatch(tasks[1]!, 'train', [5, 6]),
    splitBatch(tasks[2]!, 'train', [7, 8, 9, 10]),
  ];

  function randomized(options: Partial<VmtlModelOptions>, name: string): VmtlModel {
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name, ...options });
    const w: Record<string, tf.Tensor> = {};
    model.trainableVariables().forEach((v, i) => {
      w[v.name] = tf.randomNormal(v.shape, 0, 0.7, 'float32', 100 + i);
    });
    model.setWeights(w);
    tf.dispose(Object.values(w));
    return model;
  }

  const cases: [string, Partial<VmtlModelOptions>][] = [
    ['upperBound, detached', {}],
    ['upperBound, gradients through the prior', { detachPrior: false }],
    ['momentMatched, detached', { classifierKl: 'momentMatched' }],
    ['solo N(0, I) prior', { prior: 'standardNormal' }],
    ['upperBound at τ < 1 with a KL weight', { temperature: { kind: 'inverseSqrt' }, klWeight: 0.3 }],
  ];
  for (const [label, options] of cases) {
    it(`the fused loss and its hand-written gradient equal autodiff of the generic ELBO: ${label}`, () => {
      const model = randomized(options, `fused_${label.replace(/[^a-z]/gi, '')}`);
      const vars = model.trainableVariables();
      for (const step of [uneven, [...stackedEpoch(tasks, 16, rng, cursors)][0]!]) {
        const ctx = { step: 8, epoch: 0, seed: 1234, training: true };
        const fused = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.addN(Object.values(model.loss(step, ctx).parts)) as tf.Scalar,
            vars,
          );
          return { value: take(value), grads: vars.map((v) => take(grads[v.name]!)) };
        });
        const generic = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => model.elboParts(step, ctx).loss, vars);
          return { value: take(value), grads: vars.map((v) => take(grads[v.name]!)) };
        });
        expect(fused.value[0]).toBeCloseTo(generic.value[0]!, 2);
        expect(Math.abs(fused.value[0]! - generic.value[0]!) / Math.abs(generic.value[0]!)).toBeLessThan(
          1e-5,
        );
        fused.grads.forEach((g, i) => {
          g.forEach((v, j) => {
            expect(Math.abs(v - generic.grads[i]![j]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)));
          });
        });
      }
      model.dispose();
    });
  }

  it('the Monte Carlo estimator trains through the generic ELBO', () => {
    const model = new VmtlModel({
      tasks: vmtlTasks(tasks),
      inputDim: 2,
      classifierKl: 'monteCarlo',
      name: 'mc_model',
    });
    trainPlain(model, tasks, { epochs: 3 });
    expect(model.alpha()![0]![1]!).toBeGreaterThan(0.5);
    model.dispose();
  });

  it('loss parts are keyed task/dataset and sum to the task-averaged negative ELBO', () => {
    const model = randomized({}, 'parts_model');
    tf.tidy(() => {
      const ctx = { step: 0, epoch: 0, seed: 9, training: true };
      const { parts, extra, scale } = model.loss(uneven, ctx);
      expect(Object.keys(parts)).toEqual(tasks.map((t) => `${t.name}/${t.dataset}`));
      expect(extra).toBeUndefined();
      // A part sums the likelihood over N_t rows (÷ T): a trainer logs part / (N_t / T) per row.
      expect(scale).toEqual(
        Object.fromEntries(vmtlTasks(tasks).map((t) => [`${t.name}/${t.dataset}`, t.trainSize / 3])),
      );
      const r = model.elboParts(uneven, ctx);
      const per = take(r.taskLoss);
      Object.values(parts).forEach((p, t) => {
        expect(take(p)[0]).toBeCloseTo(per[t]! / 3, 3);
      });
      expect(r.latentKl).toBeNull();
    });
    model.dispose();
  });

  it('numTensors is unchanged across a training step, a score and a prediction', async () => {
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'leak_model' });
    const opt = tf.train.adam(1e-3);
    const vars = model.trainableVariables();
    const step = (i: number) =>
      opt.minimize(
        () =>
          tf.addN(
            Object.values(model.loss(uneven, { step: i, epoch: 0, seed: i, training: true }).parts),
          ) as tf.Scalar,
        false,
        vars,
      );
    step(0); // creates the optimizer's moments and the cached scale
    const x = tasks.map((t) => splitBatch(t, 'test').X.x!);
    model.predictProba(x).forEach((t) => {
      t.dispose();
    });
    await assertNoLeaks(() => step(1), { label: 'training step' });
    await assertNoLeaks(() => scoreOn(model, tasks), { label: 'score' });
    await assertNoLeaks(
      () =>
        model.predictProba(x).forEach((t) => {
          t.dispose();
        }),
      { label: 'predictProba' },
    );
    tf.dispose(x);
    opt.dispose();
    model.dispose();
  });

  it('predictProba gives per-task probabilities whose 0.5 threshold is the scored prediction', () => {
    const model = randomized({}, 'proba_model');
    const test = testBatches(tasks);
    const probs = model.predictProba(
      test.map((b) => b.X.x!),
      { seed: 0 },
    );
    const scores = model.score(test, { seed: 0 });
    probs.forEach((p, t) => {
      const pv = take(p);
      const y = test[t]!.Y.y!.dataSync();
      const acc = pv.reduce((s, v, i) => s + ((v > 0.5 ? 1 : 0) === y[i] ? 1 : 0), 0) / pv.length;
      expect(scores[`${tasks[t]!.name}/${tasks[t]!.dataset}/test/accuracy`]).toBeCloseTo(acc, 10);
    });
    disposeStep(test);
    model.dispose();
  });

  it('getWeights / setWeights round-trip by name; mismatches are errors', () => {
    const a = randomized({}, 'save_a');
    const b = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'save_b' });
    const weights = a.getWeights();
    expect(Object.keys(weights)).toEqual(['save_a/classifier/posterior', 'save_a/mixing/alpha']);
    const renamed = Object.fromEntries(
      Object.entries(weights).map(([k, v]) => [k.replace('save_a', 'save_b'), v]),
    );
    b.setWeights(renamed);
    expect(b.alpha()).toEqual(a.alpha());
    expect(scoreOn(b, tasks)).toEqual(scoreOn(a, tasks));
    expect(() => b.setWeights(weights)).toThrow(/unknown weight "save_a\/classifier\/posterior"/);
    expect(() =>
      b.setWeights({ 'save_b/classifier/posterior': renamed['save_b/classifier/posterior']! }),
    ).toThrow(/missing weight "save_b\/mixing\/alpha"/);
    const bad = tf.zeros([2, 2]);
    expect(() => b.setWeights({ ...renamed, 'save_b/mixing/alpha': bad })).toThrow(
      /shape \[2,2\], expected \[3,3\]/,
    );
    tf.dispose([bad, ...Object.values(weights)]);
    a.dispose();
    b.dispose();
  });

  it('save/load round-trip through memory:// and a file: same weights, scores and predictions', async () => {
    const a = randomized({}, 'io_a');
    const dir = mkdtempSync(join(tmpdir(), 'mtl-vmtl-'));
    const want = scoreOn(a, tasks);
    for (const url of ['memory://vmtl-roundtrip', join(dir, 'sub', 'model.mtl')]) {
      const before = tf.memory().numTensors;
      await a.save(url);
      expect(tf.memory().numTensors).toBe(before);
      const b = await VmtlModel.load(url, { name: 'io_b' });
      expect(b.trainableVariables().map((v) => v.name)).toEqual([
        'io_b/classifier/posterior',
        'io_b/mixing/alpha',
      ]);
      expect(b.alpha()).toEqual(a.alpha());
      expect(scoreOn(b, tasks)).toEqual(want);
      const x = tf.tensor2d([
        [0.5, -1],
        [2, 0.25],
      ]);
      const [p1, p2] = [a.predictProba([x, x, x]), b.predictProba([x, x, x])];
      expect(p2.map((p) => Array.from(p.dataSync()))).toEqual(p1.map((p) => Array.from(p.dataSync())));
      tf.dispose([x, ...p1, ...p2]);
      b.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    a.dispose();
  });

  it('loadWeights: exact by default, a warm start with onMismatch reinit; function options must be passed again', async () => {
    const a = randomized({}, 'warm_a');
    await a.save('memory://vmtl-warm');
    const same = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'warm_b' });
    expect(await same.loadWeights('memory://vmtl-warm')).toEqual({
      reused: ['classifier/posterior', 'mixing/alpha'],
      new: [],
      dropped: [],
      reshaped: [],
    });
    expect(same.alpha()).toEqual(a.alpha());
    const two = new VmtlModel({ tasks: vmtlTasks(tasks).slice(0, 2), inputDim: 2, name: 'warm_c' });
    await expect(two.loadWeights('memory://vmtl-warm')).rejects.toThrow(
      'memory://vmtl-warm: the saved model has other shapes for classifier/posterior, mixing/alpha',
    );
    expect(await two.loadWeights('memory://vmtl-warm', { onMismatch: 'reinit' })).toEqual({
      reused: [],
      new: [],
      dropped: [],
      reshaped: ['classifier/posterior', 'mixing/alpha'],
    });
    const fn = new VmtlModel({
      tasks: vmtlTasks(tasks),
      inputDim: 2,
      name: 'warm_fn',
      klWeight: (s) => Math.min(1, s / 10),
    });
    await fn.save('memory://vmtl-fn');
    await expect(VmtlModel.load('memory://vmtl-fn')).rejects.toThrow(
      'memory://vmtl-fn: was saved with function options klWeight, which cannot be serialised: pass them again (VmtlModel.load(url, {klWeight}))',
    );
    const back = await VmtlModel.load('memory://vmtl-fn', { klWeight: 1, name: 'warm_fn2' });
    for (const m of [a, same, two, fn, back]) m.dispose();
  });

  it('reports bad steps, fields, labels and names with their place', () => {
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'err_model' });
    const ctx = { step: 0, epoch: 0, seed: 0, training: true };
    expect(() => model.loss(uneven.slice(0, 2), ctx)).toThrow(/one batch per task \(3\), got 2/);
    const swapped = [uneven[1]!, uneven[0]!, uneven[2]!];
    expect(() => tf.tidy(() => void model.loss(swapped, ctx))).not.toThrow();
    const stranger = [{ ...uneven[0]!, dataset: 'other' }, uneven[1]!, uneven[2]!];
    expect(() => model.loss(stranger, ctx)).toThrow(/no batch of dataset "task1_data"/);
    const noField = [{ ...uneven[0]!, X: {} }, uneven[1]!, uneven[2]!];
    expect(() => model.loss(noField, ctx)).toThrow(
      /task task1 dataset task1_data\/train: no input field "x"/,
    );
    const y3 = tf.tensor1d([0, 1, 2, 0, 1]);
    const badLabel = [{ ...uneven[0]!, Y: { y: y3 } }, uneven[1]!, uneven[2]!];
    expect(() => model.score(badLabel)).toThrow(/label 2 at row 2: labels must be 0 or 1/);
    expect(() => model.score([{ ...uneven[0]!, dataset: 'other' }])).toThrow(/no task reads dataset "other"/);
    y3.dispose();
    expect(() => new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'err_model' })).toThrow(
      /already exists/,
    );
    expect(
      () => new VmtlModel({ tasks: [...vmtlTasks(tasks), vmtlTasks(tasks)[0]!], inputDim: 2, name: 'dup' }),
    ).toThrow(/task "task1" appears twice/);
    const zero = vmtlTasks(tasks).map((t, i) => (i === 1 ? { ...t, trainSize: 0 } : t));
    expect(() => new VmtlModel({ tasks: zero, inputDim: 2, name: 'zero' })).toThrow(
      /tasks\[1\]: trainSize must be/,
    );
    expect(() => new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, prior: 'flat' as never })).toThrow(
      /unknown prior "flat"/,
    );
    expect(() => new VmtlModel({ tasks: vmtlTasks(tasks).slice(0, 1), inputDim: 2, name: 'one' })).toThrow(
      /at least 2 tasks/,
    );
    const one = soloBaseline({ tasks: vmtlTasks(tasks).slice(0, 1), inputDim: 2, name: 'one_solo' });
    one.dispose();
    model.dispose();
  });

  it("satisfies @mtl/core's Trainable<StackedStep>", () => {
    expectTypeOf<VmtlModel>().toMatchTypeOf<Trainable<StackedStep>>();
    const model = new VmtlModel({ tasks: vmtlTasks(tasks), inputDim: 2, name: 'typed' });
    const names = model.trainableVariables().map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    model.dispose();
  });
});

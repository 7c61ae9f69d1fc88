import { join } from 'node:path';
import type { Batch } from '@mtl/core';
import { disposeBatch } from '@mtl/data';
import {
  BaseModule,
  Dense,
  type Module,
  type ModuleConfig,
  type ModuleContext,
  MultitaskModel,
  Operation,
  type ParamSpec,
  readSavedModel,
  Task,
} from '@mtl/tasks';
import { Trainer } from '@mtl/training';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cli, readJson, tempDir, writeConfig } from './helpers.js';

const CONFIG = `
seed: 2
data:
  circleDataset: { kind: circle, n: 200 }
modules:
  res: { kind: residual, block: { kind: mlp, hidden: [8], outputSize: 2 } }
  head: { kind: dense, units: 2 }
tasks:
  circle_task: { data: circleDataset, ops: [res, head] }
training: { epochs: 1, batchSize: 50 }
`;

describe('a module kind that owns a child module, from the config', () => {
  it('trains and saves a residual block written as {kind: residual, block: {kind: mlp, ...}} (widths inferred)', async () => {
    const runDir = join(tempDir(), 'run');
    const r = await cli('train', writeConfig(CONFIG), '--out', runDir, '--quiet');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const saved = await readSavedModel(join(runDir, 'model', 'model.mtl'));
    expect(Object.keys(saved.modules.res!.weights)).toEqual([
      'block/dense_0/kernel',
      'block/dense_0/bias',
      'block/dense_1/kernel',
      'block/dense_1/bias',
    ]);
    expect(saved.modules.res!.config).toMatchObject({
      type: 'residual',
      block: { type: 'mlp', inputSize: 2, hidden: [8], outputSize: 2 },
    });
    const scored = await cli('score', runDir, '--json');
    expect(scored.code).toBe(0);
    expect(JSON.parse(scored.out)).toEqual(readJson(join(runDir, 'scores.json')));
  });

  it("refuses a bad child option, naming the module and the block's option", async () => {
    const bad = CONFIG.replace('hidden: [8]', 'hidden: [0]');
    const r = await cli('validate', writeConfig(bad));
    expect(r.code).toBe(2);
    expect(r.err).toContain('modules.res');
    expect(r.err).toContain('hidden[0] must be an integer >= 1, got 0');
    const wide = CONFIG.replace('outputSize: 2', 'outputSize: 3');
    const w = await cli('validate', writeConfig(wide));
    expect(w.code).toBe(2);
    expect(w.err).toContain("the block must keep the input's row shape [2]");
  });
});

/** Passes x through and adds ‖w‖² as the loss `<module>.l2`: only that term has a gradient in w. */
class Shrink extends BaseModule {
  readonly type = 'shrink';
  protected paramSpecs(): ParamSpec[] {
    return [{ name: 'w', shape: [2], init: { constant: 1 } }];
  }
  protected forward([x]: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    this.addLoss(ctx, 'l2', tf.sum(tf.square(this.param('w'))) as tf.Scalar);
    return x!;
  }
  getConfig(): ModuleConfig {
    return { type: this.type };
  }
}

describe('a loss a module adds', () => {
  it("reaches the Trainer's objective: one SGD step moves a weight only that loss depends on", async () => {
    const shrink: Module = new Shrink();
    const model = new MultitaskModel(
      [
        new Task({
          name: 't',
          modulePool: { shrink, head: new Dense({ inputSize: 2, units: 2 }) },
          opSequence: [
            new Operation({ moduleName: 'shrink', inputs: [['_input_', 'x']] }),
            new Operation({ moduleName: 'head', inputs: ['shrink'] }),
          ],
        }),
      ],
      { seed: 1, variablePrefix: 'added-loss/' },
    );
    const batch = (): Batch => ({
      dataset: 'D',
      split: 'train',
      X: { x: tf.tensor2d([[1, -1]]) },
      Y: { t: tf.tensor1d([1], 'int32') },
      size: 1,
      indices: Int32Array.from([0]),
    });
    const trainer = new Trainer({ epochs: 1, lr: 0.1, optimizer: { type: 'sgd' }, seed: 1 });
    await trainer.fit(model, {
      train: {
        batchesPerEpoch: () => 1,
        epoch: () => [batch()],
        dispose: (b) => disposeBatch(b as Batch),
      },
    });
    // w ← w − lr·d‖w‖²/dw = 1 − 0.1·2 = 0.8 (it stays 1 if the term never reaches the objective).
    const w = shrink.variables().w!;
    for (const v of w.dataSync()) expect(v).toBeCloseTo(0.8, 6);
    model.dispose();
  });
});

describe('a module kind added as one file and one registry line (highway), from the config', () => {
  const config = (hw: string) => `
seed: 2
data:
  circleDataset: { kind: circle, n: 200 }
modules:
  hw: ${hw}
  head: { kind: dense, units: 2 }
tasks:
  circle_task: { data: circleDataset, ops: [hw, head] }
training: { epochs: 1, batchSize: 50 }
`;

  it('validates a highway with its block, and names the module option of a bad one', async () => {
    const ok = await cli(
      'validate',
      writeConfig(config('{ kind: highway, block: { kind: dense, units: 2 } }')),
    );
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    const bias = await cli(
      'validate',
      writeConfig(config('{ kind: highway, block: { kind: dense, units: 2 }, gateBias: low }')),
    );
    expect(bias.code).toBe(2);
    expect(bias.err).toContain('modules.hw.gateBias');
    const unknown = await cli(
      'validate',
      writeConfig(config('{ kind: highway, block: { kind: dense, unit: 2 } }')),
    );
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('modules.hw');
    const width = await cli(
      'validate',
      writeConfig(config('{ kind: highway, block: { kind: dense, units: 3 } }')),
    );
    expect(width.code).toBe(2);
    expect(width.err).toContain('modules.hw.block');
    expect(width.err).toContain("the block must keep the input's row shape [2]");
  });
});

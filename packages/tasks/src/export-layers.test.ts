import { isMtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toLayersModel } from './export-layers.js';
import { activation } from './modules/activation.js';
import { dense } from './modules/dense.js';
import { dropout } from './modules/dropout.js';
import { embedding } from './modules/embedding.js';
import { layerNorm } from './modules/layer-norm.js';
import { meanPool } from './modules/mean-pool.js';
import { mlp } from './modules/mlp.js';
import { residual } from './modules/residual.js';
import { MultitaskModel } from './multitask-model.js';
import { Task } from './task.js';

const T = 5;
const VOCAB = 7;

/** Four task kinds on one text trunk (embedding, masked mean, layer norm, mlp, dropout) plus a dense side input. */
function textModel(): MultitaskModel {
  const trunk = {
    emb: embedding({ vocabSize: VOCAB, dim: 4 }),
    pool: meanPool(),
    norm: layerNorm({}),
    trunk: mlp({ hidden: [6, 5], activation: 'elu' }),
    drop: dropout({ rate: 0.3 }),
  };
  const ops = [
    { moduleName: 'emb', inputs: [['_input_', 'text']] as const },
    { moduleName: 'pool', inputs: ['emb', ['_input_', 'text_mask']] as const },
    { moduleName: 'norm', inputs: ['pool'] },
    { moduleName: 'trunk', inputs: ['norm', ['_input_', 'num']] as const },
    { moduleName: 'drop', inputs: ['trunk'] },
  ];
  const task = (name: string, kind: 'multiclass' | 'binary' | 'multilabel' | 'regression', units: number) =>
    new Task({
      name,
      kind,
      label: name,
      modulePool: {
        ...trunk,
        [`${name}_head`]: dense({ units, activation: kind === 'regression' ? 'leakyRelu' : 'linear' }),
        ...(kind === 'multilabel' ? { tanh: activation({ fn: 'tanh' }) } : {}),
      },
      opSequence: [
        ...ops,
        { moduleName: `${name}_head`, inputs: ['drop'] },
        ...(kind === 'multilabel' ? [{ moduleName: 'tanh', inputs: [`${name}_head`] }] : []),
      ],
    });
  return new MultitaskModel(
    [
      task('topic', 'multiclass', 3),
      task('spam', 'binary', 1),
      task('tags', 'multilabel', 2),
      task('score', 'regression', 2),
    ],
    { seed: 11, inputShapes: { text: [T], text_mask: [T], num: [2] } },
  );
}

function batch() {
  const ids = [
    [1, 2, 3, 0, 0],
    [4, 4, 5, 6, 1],
    [2, 0, 0, 0, 0],
  ];
  return {
    dataset: 'd',
    split: 'test',
    X: {
      text: tf.tensor2d(ids, undefined, 'int32'),
      text_mask: tf.tensor2d(ids.map((r, i) => r.map((v, j) => (v !== 0 || (i === 1 && j === 4) ? 1 : 0)))),
      num: tf.tensor2d([
        [0.5, -1],
        [2, 0.25],
        [-0.3, 0.7],
      ]),
    },
    Y: {},
    size: 3,
    indices: new Int32Array([0, 1, 2]),
  };
}

describe('toLayersModel', () => {
  it('computes the probabilities of every task kind as the model does, saved and loaded by plain tfjs', async () => {
    const model = textModel();
    const b = batch();
    const before = tf.memory().numTensors;
    const exported = toLayersModel(model, {
      inputs: { text: { shape: [T], dtype: 'int32' }, text_mask: { shape: [T] }, num: { shape: [2] } },
    });
    expect(exported.outputNames).toEqual(['topic', 'spam', 'tags', 'score']);
    expect(exported.inputNames).toEqual(['text', 'text_mask', 'num']);
    // Through tf.io: the JSON topology and weight bytes a model.json holds, loaded by tf.loadLayersModel.
    let artifacts: tf.io.ModelArtifacts | undefined;
    await exported.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = JSON.parse(JSON.stringify({ ...a, weightData: undefined }));
        if (a.weightData !== undefined) artifacts!.weightData = a.weightData;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    exported.dispose();
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const expected = tf.tidy(() => {
      const logits = model.forward(b);
      return {
        topic: tf.softmax(logits.topic!).arraySync(),
        spam: tf.concat([tf.sub(1, tf.sigmoid(logits.spam!)), tf.sigmoid(logits.spam!)], 1).arraySync(),
        tags: tf.sigmoid(logits.tags!).arraySync(),
        score: logits.score!.arraySync(),
      };
    });
    const got = tf.tidy(() =>
      (loaded.predict([b.X.text, b.X.text_mask, b.X.num]) as tf.Tensor[]).map((t) => t.arraySync()),
    );
    const names = ['topic', 'spam', 'tags', 'score'] as const;
    names.forEach((name, i) => {
      const want = (expected[name] as number[][]).flat();
      const have = (got[i] as number[][]).flat();
      expect(have.length).toBe(want.length);
      for (let k = 0; k < want.length; k++) expect(Math.abs(have[k]! - want[k]!)).toBeLessThan(1e-5);
    });
    // The masked mean weighs only kept positions: changing a masked-out id changes nothing.
    const other = tf.tidy(() => {
      const ids = b.X.text.arraySync() as number[][];
      ids[0]![4] = 6;
      const out = loaded.predict([
        tf.tensor2d(ids, undefined, 'int32'),
        b.X.text_mask,
        b.X.num,
      ]) as tf.Tensor[];
      return out[0]!.arraySync() as number[][];
    });
    expect(other[0]).toEqual((got[0] as number[][])[0]);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(b.X));
    model.dispose();
  });

  it('names the module kind it cannot export', () => {
    const model = new MultitaskModel(
      [
        new Task({
          name: 'a',
          label: 'a',
          modulePool: { block: residual({ block: { type: 'dense', units: 2 } }), head: dense({ units: 2 }) },
          opSequence: [
            { moduleName: 'block', inputs: [['_input_', 'x']] },
            { moduleName: 'head', inputs: ['block'] },
          ],
        }),
      ],
      { inputShapes: { x: [2] } },
    );
    const before = tf.memory().numTensors;
    try {
      toLayersModel(model, { inputs: { x: { shape: [2] } } });
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'NOT_IMPLEMENTED')).toBe(true);
      expect((e as Error).message).toMatch(/module kind "residual" cannot be exported/);
      expect((e as { place: string }).place).toBe('module block');
    }
    expect(() => toLayersModel(model, { inputs: {} })).toThrow(/reads input field "x", which options.inputs/);
    const gelu = new MultitaskModel(
      [
        new Task({
          name: 'a',
          label: 'a',
          modulePool: { g: dense({ units: 2, activation: 'gelu' }) },
          opSequence: [{ moduleName: 'g', inputs: [['_input_', 'x']] }],
        }),
      ],
      { inputShapes: { x: [2] } },
    );
    expect(() => toLayersModel(gelu, { inputs: { x: { shape: [2] } } })).toThrow(
      /activation "gelu" has no tf.layers equivalent/,
    );
    gelu.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

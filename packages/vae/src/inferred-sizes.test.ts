import { caught } from '@mtl/core/testing';
import { type Batch, type DictDataset, disposeBatch } from '@mtl/data';
import { dense, type Module, mlp } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type Decoder, decoder } from './decoder.js';
import { type GaussianEncoder, gaussianEncoder } from './gaussian-encoder.js';
import { MultitaskVae, type MultitaskVaeOptions, type VaeTask } from './multitask-vae.js';
import { makeVaeDomains } from './vae-domains.js';
import { type VectorQuantizer, vectorQuantizer } from './vector-quantizer.js';

const live: MultitaskVae[] = [];
function track(m: MultitaskVae): MultitaskVae {
  live.push(m);
  return m;
}
afterEach(() => {
  for (const m of live.splice(0)) m.dispose();
});

const all = (ds: DictDataset): Batch => ds.collate(Int32Array.from({ length: ds.length }, (_, i) => i));

/** Two domains sharing a trunk, an encoder and a decoder; sizes given or left to inference. */
function setup(given: boolean, prefix: string, options: Partial<MultitaskVaeOptions> = {}) {
  const domains = makeVaeDomains({ tasks: 2, dim: 6, train: 32, test: 10 }, 3);
  const modules: Record<string, Module> = {
    trunk: mlp(
      given ? { inputSize: 6, hidden: [10], activation: 'tanh' } : { hidden: [10], activation: 'tanh' },
    ),
    enc: gaussianEncoder(given ? { inputSize: 10, latentSize: 2 } : { latentSize: 2 }),
    lift: dense(given ? { inputSize: 2, units: 8, activation: 'tanh' } : { units: 8, activation: 'tanh' }),
    dec: decoder(given ? { inputSize: 8, outputSize: 6 } : { outputSize: 6 }),
  };
  const tasks: VaeTask[] = domains.map((d) => ({
    name: d.name,
    dataset: d.train.name,
    encoder: ['trunk', 'enc'],
    decoder: ['lift', 'dec'],
  }));
  const model = track(
    new MultitaskVae({
      tasks,
      modules,
      seed: 11,
      variablePrefix: prefix,
      ...(given ? {} : { inputShapes: { x: [6] } }),
      ...options,
    }),
  );
  return { model, modules, domains };
}

describe('MultitaskVae shape inference', () => {
  it('infers every input width along the encoder and decoder chains; same seed, same weights as given sizes', () => {
    const inferred = setup(false, 'inferred/');
    expect((inferred.modules.enc as GaussianEncoder).inputSize).toBe(10);
    expect((inferred.modules.dec as Decoder).inputSize).toBe(8);
    expect(inferred.modules.lift!.getConfig().inputSize).toBe(2);
    const given = setup(true, 'given/');
    const a = given.model.toSaved();
    const b = inferred.model.toSaved();
    expect(b.modules).toEqual(a.modules);
    // It trains: a finite loss part per task.
    const batches = inferred.domains.map((d) => all(d.train));
    const parts = tf.tidy(() =>
      Object.values(inferred.model.loss(batches, { step: 0, epoch: 0, seed: 1, training: true }).parts).map(
        (p) => p.dataSync()[0]!,
      ),
    );
    disposeBatch(batches);
    expect(parts).toHaveLength(2);
    expect(parts.every(Number.isFinite)).toBe(true);
  });

  it("infers a quantizer's embeddingDim from the encoder output, and the decoder's inputSize from it", () => {
    const domains = makeVaeDomains({ tasks: 1, dim: 5, train: 16, test: 10 }, 1);
    const vq = vectorQuantizer({ numEmbeddings: 4 });
    const dec = decoder({ outputSize: 5 });
    track(
      new MultitaskVae({
        tasks: [
          { name: 'a', dataset: domains[0]!.train.name, encoder: 'ze', quantizer: 'vq', decoder: 'dec' },
        ],
        modules: { ze: dense({ units: 3 }), vq, dec },
        inputShapes: { x: [5] },
      }),
    );
    expect((vq as VectorQuantizer).embeddingDim).toBe(3);
    expect(dec.inputSize).toBe(3);
  });

  it('a shared encoder fed two widths names both tasks; nothing is allocated', () => {
    const before = tf.memory().numTensors;
    const e = caught(
      () =>
        new MultitaskVae({
          tasks: [
            { name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dec_a', inputField: 'x4' },
            { name: 'b', dataset: 'B', encoder: 'enc', decoder: 'dec_b', inputField: 'x5' },
          ],
          modules: {
            enc: gaussianEncoder({ latentSize: 2 }),
            dec_a: decoder({ outputSize: 4 }),
            dec_b: decoder({ outputSize: 5 }),
          },
          inputShapes: { x4: [4], x5: [5] },
        }),
    );
    expect(e.code).toBe('DATA_SHAPE_MISMATCH');
    expect(e.message).toContain(
      'module "enc" is shared by tasks a (operation encoder[0]) and b (operation encoder[0])',
    );
    expect(e.message).toContain('inputSize 4 vs 5');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a given width that differs, or a decoder not ending in the data width, is DATA_SHAPE_MISMATCH', () => {
    const e1 = caught(() =>
      setup(false, 'bad1/', {
        modules: {
          trunk: mlp({ inputSize: 7, hidden: [10] }),
          enc: gaussianEncoder({ latentSize: 2 }),
          lift: dense({ units: 8 }),
          dec: decoder({ outputSize: 6 }),
        },
      }),
    );
    expect(e1.message).toContain(
      'module "trunk" in task domain1 operation encoder[0]: inputSize is 7 but the input has 6',
    );
    const e2 = caught(() =>
      setup(false, 'bad2/', {
        modules: {
          trunk: mlp({ hidden: [10] }),
          enc: gaussianEncoder({ latentSize: 2 }),
          lift: dense({ units: 8 }),
          dec: decoder({ outputSize: 5 }),
        },
      }),
    );
    expect(e2.code).toBe('DATA_SHAPE_MISMATCH');
    expect(e2.message).toBe(
      'task domain1: the decoder ends in 5 values per row but input field "x" has 6: the last decoder module ("dec") must output 6',
    );
  });
});

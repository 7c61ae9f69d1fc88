import { assertNoLeaks } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { codesUsed } from './vae-metrics.js';
import {
  codebookPerplexity,
  nearestCode,
  type VectorQuantizerOutput,
  vectorQuantizer,
} from './vector-quantizer.js';

function withCodebook(rows: number[][], commitmentCost = 0.25) {
  const vq = vectorQuantizer({ numEmbeddings: rows.length, embeddingDim: rows[0]!.length, commitmentCost });
  vq.build(`vq${Math.random().toString(36).slice(2)}`, { seed: 1 });
  vq.setWeights({ codebook: tf.tensor2d(rows) });
  return vq;
}

describe('vectorQuantizer', () => {
  it('replaces each row by its nearest codebook vector; losses by hand', () => {
    const vq = withCodebook([
      [0, 0],
      [1, 0],
      [0, 2],
    ]);
    tf.tidy(() => {
      const ze = tf.tensor2d([
        [0.9, 0],
        [0.1, 1.5],
        [-0.2, 0.1],
      ]);
      const out = vq.apply([ze], { training: true, seed: 0 }) as VectorQuantizerOutput;
      expect(out.onehot.arraySync()).toEqual([
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 0],
      ]);
      expect(out.z.arraySync()).toEqual([
        [1, 0],
        [0, 2],
        [0, 0],
      ]);
      const cb = out.codebookLoss.dataSync();
      const expected = [0.01, 0.01 + 0.25, 0.04 + 0.01];
      for (let i = 0; i < 3; i++) {
        expect(cb[i]).toBeCloseTo(expected[i]!, 5);
        expect(out.commitmentLoss.dataSync()[i]).toBeCloseTo(expected[i]!, 5);
        expect(out.loss.dataSync()[i]).toBeCloseTo(1.25 * expected[i]!, 5);
      }
    });
    vq.dispose();
  });

  it('straight-through: the decoder gradient reaches z_e unchanged and never the codebook; the codebook learns from its loss', () => {
    const vq = withCodebook([
      [0, 0],
      [1, 0],
    ]);
    const codebook = vq.variables().codebook!;
    tf.tidy(() => {
      const ze = tf.tensor2d([[0.8, 0.3]]);
      const w = tf.tensor2d([[2, -3]]);
      const decoderTerm = (x: tf.Tensor) =>
        tf.sum(
          tf.mul((vq.apply([x], { training: true, seed: 0 }) as VectorQuantizerOutput).z, w),
        ) as tf.Scalar;
      expect(tf.grad(decoderTerm)(ze).arraySync()).toEqual([[2, -3]]);
      const viaDecoder = tf.variableGrads(() => decoderTerm(ze), [codebook]);
      expect(Array.from(viaDecoder.grads[codebook.name]!.dataSync())).toEqual([0, 0, 0, 0]);
      // d/de_1 ‖sg(z_e) − e_1‖² = 2 (e_1 − z_e) = [0.4, −0.6]; the unused code gets nothing.
      const viaLoss = tf.variableGrads(
        () =>
          tf.sum(
            (vq.apply([ze], { training: true, seed: 0 }) as VectorQuantizerOutput).codebookLoss,
          ) as tf.Scalar,
        [codebook],
      );
      const g = viaLoss.grads[codebook.name]!.dataSync();
      expect(g[0]).toBe(0);
      expect(g[1]).toBe(0);
      expect(g[2]).toBeCloseTo(0.4, 5);
      expect(g[3]).toBeCloseTo(-0.6, 5);
      // The commitment loss pulls z_e towards its code: 2 (z_e − e_1) = [−0.4, 0.6].
      const gc = tf
        .grad(
          (x: tf.Tensor) =>
            tf.sum(
              (vq.apply([x], { training: true, seed: 0 }) as VectorQuantizerOutput).commitmentLoss,
            ) as tf.Scalar,
        )(ze)
        .dataSync();
      expect(gc[0]).toBeCloseTo(-0.4, 5);
      expect(gc[1]).toBeCloseTo(0.6, 5);
    });
    vq.dispose();
  });

  it('leaks no tensor', async () => {
    const vq = withCodebook([
      [0, 0],
      [1, 1],
    ]);
    const ze = tf.randomNormal([8, 2], 0, 1, 'float32', 3);
    await assertNoLeaks(() => {
      tf.tidy(() => {
        vq.apply([ze], { training: true, seed: 0 });
      });
    });
    ze.dispose();
    vq.dispose();
  });
});

describe('nearestCode, codebookPerplexity, codesUsed', () => {
  it('nearest code by squared distance', () => {
    tf.tidy(() => {
      const onehot = nearestCode(
        tf.tensor2d([
          [0.9, 0],
          [0.4, 0],
        ]),
        tf.tensor2d([
          [0, 0],
          [1, 0],
        ]),
      );
      expect(onehot.arraySync()).toEqual([
        [0, 1],
        [1, 0],
      ]);
    });
  });

  it('perplexity is 1 for one code, K for uniform use, exp(H) in between', () => {
    tf.tidy(() => {
      expect(
        codebookPerplexity(
          tf.tensor2d([
            [1, 0, 0, 0],
            [1, 0, 0, 0],
          ]),
        ),
      ).toBeCloseTo(1, 6);
      expect(codebookPerplexity(tf.eye(4))).toBeCloseTo(4, 5);
      // p = (3/4, 1/4): exp(−(¾ ln ¾ + ¼ ln ¼)) ≈ 1.7548
      const p = tf.tensor2d([
        [1, 0],
        [1, 0],
        [1, 0],
        [0, 1],
      ]);
      expect(codebookPerplexity(p)).toBeCloseTo(
        Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))),
        5,
      );
      expect(
        codesUsed(
          tf.tensor2d([
            [1, 0, 0],
            [1, 0, 0],
            [0, 0, 1],
          ]),
        ),
      ).toBe(2);
    });
  });
});

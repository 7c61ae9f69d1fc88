import type { MtlError } from '@mtl/core';
import { checkGradients } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GateRecorder, gatedModules, moduleFromConfig, SliceCombiner, sliceCombiner } from '../index.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** Two rows, slices base and hard: 1-logit indicators, 3-class predictors, width-2 representations. */
const IND = [
  [2, -1],
  [0.5, 1.5],
];
const PRED_BASE = [
  [1, 0, -1],
  [0.2, 0.1, 0.3],
];
const PRED_HARD = [
  [0, 3, 0],
  [-2, 0, 2],
];
const REP_BASE = [
  [1, 2],
  [-1, 0.5],
];
const REP_HARD = [
  [3, -1],
  [0, 4],
];

function inputs(): tf.Tensor[] {
  return [
    tf.tensor2d(IND.map((r) => [r[0]!])),
    tf.tensor2d(IND.map((r) => [r[1]!])),
    tf.tensor2d(PRED_BASE),
    tf.tensor2d(PRED_HARD),
    tf.tensor2d(REP_BASE),
    tf.tensor2d(REP_HARD),
  ];
}

/** softmax over slices of σ(ind) · max softmax(pred) / τ, then the weighted sum of representations. */
function byHand(temperature: number): { a: number[][]; out: number[][] } {
  const a: number[][] = [];
  const out: number[][] = [];
  for (let r = 0; r < 2; r++) {
    const scores = [
      sigmoid(IND[r]![0]!) * Math.max(...softmax(PRED_BASE[r]!)),
      sigmoid(IND[r]![1]!) * Math.max(...softmax(PRED_HARD[r]!)),
    ].map((v) => v / temperature);
    const w = softmax(scores);
    a.push(w);
    out.push([0, 1].map((h) => w[0]! * REP_BASE[r]![h]! + w[1]! * REP_HARD[r]![h]!));
  }
  return { a, out };
}

describe('slice_combiner', () => {
  it('weighs the slice representations as computed by hand, with attention rows summing to 1', () => {
    const before = tf.memory().numTensors;
    for (const temperature of [1, 0.25]) {
      const combiner = sliceCombiner({ slices: ['base', 'hard'], temperature });
      combiner.build('combiner');
      const x = inputs();
      const hand = byHand(temperature);
      const a = combiner.attention(x);
      const out = combiner.apply(x, { training: false, seed: 0 }) as tf.Tensor;
      expect(out.shape).toEqual([2, 2]);
      const got = a.arraySync();
      got.forEach((row, r) => {
        expect(row[0]! + row[1]!).toBeCloseTo(1, 6);
        row.forEach((v, s) => {
          expect(v).toBeCloseTo(hand.a[r]![s]!, 5);
        });
      });
      const combined = out.arraySync() as number[][];
      for (let r = 0; r < 2; r++) {
        for (let h = 0; h < 2; h++) expect(combined[r]![h]).toBeCloseTo(hand.out[r]![h]!, 5);
      }
      // The temperature sharpens: the row-0 weights differ from the τ = 1 ones.
      if (temperature !== 1) expect(Math.abs(got[0]![0]! - byHand(1).a[0]![0]!)).toBeGreaterThan(0.05);
      tf.dispose([...x, a, out]);
      combiner.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads 2-logit indicators as softmax(z)₁ and a binary predictor logit as σ(|z|)', () => {
    const combiner = sliceCombiner({ slices: ['base', 'hard'] });
    combiner.build('c');
    tf.tidy(() => {
      const a = combiner.attention([
        tf.tensor2d([[0, 1]]),
        tf.tensor2d([[2, 0]]),
        tf.tensor2d([[-1.5]]),
        tf.tensor2d([[0.5]]),
        tf.tensor2d([[1]]),
        tf.tensor2d([[2]]),
      ]);
      const q = [softmax([0, 1])[1]!, softmax([2, 0])[1]!];
      const c = [sigmoid(1.5), sigmoid(0.5)];
      const w = softmax([q[0]! * c[0]!, q[1]! * c[1]!]);
      const got = a.arraySync()[0]!;
      expect(got[0]).toBeCloseTo(w[0]!, 6);
      expect(got[1]).toBeCloseTo(w[1]!, 6);
    });
    combiner.dispose();
  });

  it('has gradients that match finite differences for every input', () => {
    const combiner = sliceCombiner({ slices: ['base', 'hard'], temperature: 0.5 });
    combiner.build('c');
    const x = inputs();
    const check = checkGradients(
      (...ins) => combiner.apply(ins, { training: false, seed: 0 }) as tf.Tensor,
      x,
      {
        step: 1e-2,
        tolerance: 2e-2,
      },
    );
    expect(check.failures).toEqual([]);
    tf.dispose(x);
    combiner.dispose();
  });

  it('infers and checks widths, round-trips its config, and names bad inputs', () => {
    const combiner = sliceCombiner({ slices: ['base', 'a', 'b'], temperature: 2 });
    expect(combiner.inferShape([[1], [1], [2], [3], [3], [3], [8], [8], [8]])).toEqual([8]);
    expect(combiner.getConfig()).toEqual({
      type: 'slice_combiner',
      slices: ['base', 'a', 'b'],
      temperature: 2,
      inputSize: 8,
    });
    const again = moduleFromConfig(combiner.getConfig()) as SliceCombiner;
    expect(again.slices).toEqual(['base', 'a', 'b']);
    expect(again.temperature).toBe(2);
    expect(combiner.parameterCount()).toBe(0);
    const fail = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as MtlError;
      }
      throw new Error('did not throw');
    };
    expect(fail(() => combiner.inferShape([[1], [1]])).message).toMatch(
      /3 inputs per slice .* 9 inputs, got 2/,
    );
    expect(fail(() => combiner.inferShape([[4], [1], [1], [2], [2], [2], [8], [8], [8]])).message).toMatch(
      /indicator of slice base must output 1 logit/,
    );
    expect(fail(() => combiner.inferShape([[1], [1], [1], [2], [2], [2], [8], [8], [5]])).code).toBe(
      'DATA_SHAPE_MISMATCH',
    );
    expect(fail(() => sliceCombiner({ slices: ['a', 'a'] })).message).toMatch(/names a slice twice/);
    expect(fail(() => sliceCombiner({ slices: ['a'], temperature: 0 })).message).toMatch(/temperature/);
    combiner.build('c');
    tf.tidy(() => {
      const bad = [
        tf.ones([2, 1]),
        tf.ones([2, 1]),
        tf.ones([2, 1]),
        tf.ones([2, 2]),
        tf.ones([2, 2]),
        tf.ones([2, 2]),
      ];
      expect(fail(() => combiner.apply(bad, { training: false, seed: 0 })).message).toMatch(
        /9 inputs, got 6/,
      );
    });
    combiner.dispose();
    expect(combiner).toBeInstanceOf(SliceCombiner);
  });
  it("records its attention like a routing module's gates: the mean per slice of inference passes only", async () => {
    const combiner = sliceCombiner({ slices: ['base', 'hard'] });
    combiner.build('t.combiner');
    const pool = new Map([['t.combiner', combiner]]);
    expect(Object.keys(gatedModules(pool))).toEqual(['t.combiner']);
    const before = tf.memory().numTensors;
    const x = inputs();
    const { gates } = await new GateRecorder(gatedModules(pool)).record(() => {
      tf.dispose(combiner.apply(x, { training: true, seed: 0 }) as tf.Tensor); // not recorded
      tf.dispose(combiner.apply(x, { training: false, seed: 0 }) as tf.Tensor);
    });
    const hand = byHand(1).a;
    expect(gates['t.combiner']!.attention!.experts).toEqual(['base', 'hard']);
    expect(gates['t.combiner']!.attention!.rows).toBe(2);
    gates['t.combiner']!.attention!.weights.forEach((w, s) => {
      expect(w).toBeCloseTo((hand[0]![s]! + hand[1]![s]!) / 2, 5);
    });
    tf.dispose(x);
    expect(tf.memory().numTensors).toBe(before);
  });
});

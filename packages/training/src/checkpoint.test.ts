import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMtlError } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignVariables,
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  type NamedArray,
  readVariables,
  saveCheckpoint,
} from './checkpoint.js';
import { uniqueName } from './test-utils.js';

const dir = () => mkdtempSync(join(tmpdir(), 'mtl-ckpt-'));

describe('checkpoint files', () => {
  it('law: encode/decode round-trips every value bit for bit (NaN and ±0 included)', () => {
    const arr = fc.array(fc.float(), { minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(arr, arr, fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 4 }), (a, b, ints) => {
        const ckpt: Checkpoint = {
          weights: [
            { name: 'm/w', dtype: 'float32', shape: [a.length], values: Float32Array.from(a) },
            { name: 'm/i', dtype: 'int32', shape: [ints.length], values: Int32Array.from(ints) },
          ],
          optimizer: {
            type: 'adam',
            steps: { 'm/w': 3 },
            slots: [{ name: 'm/w/m', dtype: 'float32', shape: [b.length], values: Float32Array.from(b) }],
          },
        };
        const back = decodeCheckpoint(encodeCheckpoint(ckpt));
        expect(new Uint8Array(back.weights[0]!.values.buffer)).toEqual(
          new Uint8Array(Float32Array.from(a).buffer),
        );
        expect(Array.from(back.weights[1]!.values)).toEqual(ints);
        expect(back.weights[1]!.dtype).toBe('int32');
        expect(back.optimizer?.steps).toEqual({ 'm/w': 3 });
        expect(new Uint8Array(back.optimizer!.slots[0]!.values.buffer)).toEqual(
          new Uint8Array(Float32Array.from(b).buffer),
        );
      }),
      { numRuns: 50 },
    );
  });

  it('saves atomically and loads back; JSON metadata keeps NaN and Infinity', async () => {
    const path = join(dir(), 'nested', 'model.ckpt');
    const weights: NamedArray[] = [
      { name: 'w', dtype: 'float32', shape: [2, 1], values: new Float32Array([1, 2]) },
    ];
    const trainer = { history: [{ step: 1, epoch: 0, metrics: { a: Number.NaN, b: Infinity, c: 0.5 } }] };
    await saveCheckpoint(path, {
      weights,
      trainer: trainer as unknown as NonNullable<Checkpoint['trainer']>,
    });
    const back = await loadCheckpoint(path);
    expect(back.weights).toEqual(weights);
    const metrics = (back.trainer as unknown as typeof trainer).history[0]!.metrics;
    expect(metrics.a).toBeNaN();
    expect(metrics.b).toBe(Infinity);
    expect(metrics.c).toBe(0.5);
  });

  it('refuses a corrupt file, naming it (flipped byte, truncation, garbage)', async () => {
    const path = join(dir(), 'c.ckpt');
    await saveCheckpoint(path, {
      weights: [{ name: 'w', dtype: 'float32', shape: [3], values: new Float32Array([1, 2, 3]) }],
    });
    const good = readFileSync(path);
    for (const bad of [
      Buffer.concat([good.subarray(0, 40), Buffer.from([good[40]! ^ 1]), good.subarray(41)]),
      good.subarray(0, good.length - 5),
      Buffer.from('hello'),
    ]) {
      writeFileSync(path, bad);
      const e = await caught(() => loadCheckpoint(path));
      expect(e.code).toBe('CHECKPOINT_CORRUPT');
      expect(e.message).toContain(path);
    }
    const missing = await caught(() => loadCheckpoint(join(dir(), 'none.ckpt')));
    expect(missing.code).toBe('FILE_NOT_FOUND');
  });

  it('readVariables + assignVariables restore weights by name', async () => {
    const a = tf.variable(tf.tensor2d([[1, 2]]), true, uniqueName('ck/a'));
    const b = tf.variable(tf.tensor1d([3]), true, uniqueName('ck/b'));
    const saved = await readVariables([a, b]);
    a.assign(tf.zeros([1, 2]));
    b.assign(tf.zeros([1]));
    assignVariables([b, a], saved);
    expect(Array.from(a.dataSync())).toEqual([1, 2]);
    expect(Array.from(b.dataSync())).toEqual([3]);
    tf.dispose([a, b]);
  });

  it('assignVariables names the variable on a mismatch and changes nothing', async () => {
    const a = tf.variable(tf.tensor1d([1, 2]), true, uniqueName('mm/a'));
    const b = tf.variable(tf.tensor1d([3]), true, uniqueName('mm/b'));
    const saved = await readVariables([a, b]);
    const shape = caught(() =>
      assignVariables([a, b], [saved[0]!, { ...saved[1]!, shape: [1, 1] }], 'x.ckpt'),
    );
    expect(shape.code).toBe('CHECKPOINT_MISMATCH');
    expect(shape.message).toContain(`variable "${b.name}"`);
    expect(shape.message).toContain('x.ckpt');
    const missing = caught(() => assignVariables([a, b], [saved[0]!]));
    expect(missing.message).toContain(`variable "${b.name}" is not in the checkpoint`);
    const extra = caught(() => assignVariables([a], saved));
    expect(extra.message).toContain(`holds variable "${b.name}"`);
    expect(isMtlError(extra, 'CHECKPOINT_MISMATCH')).toBe(true);
    expect(Array.from(a.dataSync())).toEqual([1, 2]);
    tf.dispose([a, b]);
  });
});

describe('checkpoints in the saved format (v2)', () => {
  it('round-trips through memory:// with every group and extra JSON fields (aggregator state)', async () => {
    const ckpt = {
      weights: [{ name: 'm/w', dtype: 'float32' as const, shape: [2], values: new Float32Array([1, -2]) }],
      optimizer: {
        type: 'adam' as const,
        steps: { 'm/w': 3 },
        slots: [
          { name: 'm/w/m', dtype: 'float32' as const, shape: [2], values: new Float32Array([0.5, 0.25]) },
        ],
      },
      bestWeights: [{ name: 'm/w', dtype: 'float32' as const, shape: [2], values: new Float32Array([7, 8]) }],
      aggregator: { name: 'dwa', losses: [[1, Number.NaN]] },
    } as unknown as Checkpoint;
    await saveCheckpoint('memory://ckpt-roundtrip', ckpt);
    const back = (await loadCheckpoint('memory://ckpt-roundtrip')) as unknown as typeof ckpt & {
      aggregator: { name: string; losses: number[][] };
    };
    expect(back.weights).toEqual(ckpt.weights);
    expect(back.optimizer).toEqual(ckpt.optimizer);
    expect(back.bestWeights).toEqual(ckpt.bestWeights);
    expect(back.aggregator.name).toBe('dwa');
    expect(back.aggregator.losses[0]![1]).toBeNaN();
  });

  it('refuses a checkpoint of the earlier binary format (MTLCKPT1), naming the file and both versions', async () => {
    const path = join(dir(), 'old.ckpt');
    const header = new TextEncoder().encode('{"format":"mtl-checkpoint","version":1,"tensors":[]}');
    const bytes = new Uint8Array(12 + header.length + 32);
    bytes.set(new TextEncoder().encode('MTLCKPT1'), 0);
    new DataView(bytes.buffer).setUint32(8, header.length, true);
    bytes.set(header, 12);
    writeFileSync(path, bytes);
    const e = await caught(() => loadCheckpoint(path));
    expect(e.code).toBe('FORMAT_VERSION');
    expect(e.message).toBe(
      `${path}: is format "mtl-checkpoint" version 1; this release reads "mtl-saved" version 2 (files of earlier releases are not converted: train again)`,
    );
  });
});

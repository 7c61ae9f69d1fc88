import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '@mtl/core/node';
import { MultitaskModel } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readLayersModelFiles } from '../src/build/layers-files.js';
import { cli, EXAMPLES, tempDir, writeConfig } from './helpers.js';

let runDir = '';
let exportDir = '';
const POINTS = [
  [0.05, -0.02],
  [0.95, 0.97],
  [-0.9, 0.92],
  [0, 0.1],
  [0.3, -0.45],
];

beforeAll(async () => {
  const dir = tempDir();
  runDir = join(dir, 'run');
  exportDir = join(dir, 'export');
  const r = await cli(
    'train',
    join(EXAMPLES, 'snorkel-basics.yaml'),
    '--out',
    runDir,
    '--quiet',
    '--set',
    'training.epochs=3',
  );
  expect(r.err).toBe('');
});

/**
 * Disposes a loaded LayersModel whose layers run on several inputs: tfjs counts a layer once per
 * call and `LayersModel.dispose` lets go of each layer once, so a shared layer keeps its weights.
 */
function disposeShared(model: tf.LayersModel): void {
  model.dispose();
  for (const layer of model.layers) {
    try {
      while (layer.dispose().refCountAfterDispose > 0);
    } catch {
      // Already disposed: the model's own dispose freed it.
    }
  }
}

/** `mtl predict`'s probability columns for the points. */
async function predicted(task: string): Promise<number[][]> {
  const dir = tempDir();
  const header = task === 'circle_task' ? 'circle_data' : 'square_data';
  writeFileSync(
    join(dir, 'in.csv'),
    `${header}_0,${header}_1\n${POINTS.map((p) => p.join(',')).join('\n')}\n`,
  );
  const r = await cli(
    'predict',
    runDir,
    '--task',
    task,
    '--input',
    join(dir, 'in.csv'),
    '--output',
    join(dir, 'out.csv'),
  );
  expect(r.err).toBe('');
  return readFileSync(join(dir, 'out.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').slice(2).map(Number));
}

describe('mtl export --format tfjs-layers', () => {
  it('writes a LayersModel that plain tfjs loads, predicting as mtl predict does within 1e-5', async () => {
    const r = await cli('export', runDir, '--format', 'tfjs-layers', '--out', exportDir);
    expect(r.err).toBe('');
    expect(r.out).toBe(
      `tfjs LayersModel with outputs circle_task, square_task written to ${exportDir}/model.json`,
    );
    const json = JSON.parse(readFileSync(join(exportDir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    const before = tf.memory().numTensors;
    const model = await tf.loadLayersModel(
      tf.io.fromMemory(readLayersModelFiles(join(exportDir, 'model.json'))),
    );
    expect(model.inputNames).toEqual(['circle_data', 'square_data']);
    expect(model.outputNames).toEqual(['circle_task', 'square_task']);
    const got = tf.tidy(() => {
      const x = tf.tensor2d(POINTS);
      return (model.predict([x, x]) as tf.Tensor[]).map((t) => t.arraySync() as number[][]);
    });
    disposeShared(model);
    expect(tf.memory().numTensors).toBe(before);
    const want = [await predicted('circle_task'), await predicted('square_task')];
    let worst = 0;
    for (let t = 0; t < 2; t++) {
      expect(got[t]!.length).toBe(POINTS.length);
      got[t]!.forEach((row, i) => {
        row.forEach((v, c) => {
          worst = Math.max(worst, Math.abs(v - want[t]![i]![c]!));
        });
      });
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('names what it cannot export and leaves no model.json behind', async () => {
    expect((await cli('export', runDir, '--format', 'onnx', '--out', tempDir())).err).toMatch(
      /unknown format "onnx" \(formats: tfjs-layers\)/,
    );
    expect((await cli('export', runDir, '--format', 'tfjs-layers', '--out', exportDir)).err).toMatch(
      /already holds a model\.json/,
    );
    const config = writeConfig(
      [
        'seed: 1',
        'data: { c: { kind: circle, n: 40 } }',
        'modules:',
        '  block: { kind: residual, block: { kind: dense, units: 2 } }',
        '  head: { kind: dense, units: 2 }',
        'tasks: { t: { data: c, ops: [block, head] } }',
        'training: { epochs: 1, batchSize: 20 }',
      ].join('\n'),
    );
    const run = join(tempDir(), 'run');
    expect((await cli('train', config, '--out', run, '--quiet')).code).toBe(0);
    const out = tempDir();
    const r = await cli('export', run, '--format', 'tfjs-layers', '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/module kind "residual" cannot be exported to a tf.layers model/);
    expect(r.err).toMatch(/module block/);
    expect(existsSync(join(out, 'model.json'))).toBe(false);
  });
});

describe('the layers module kind', () => {
  it('puts an exported model under new heads as a frozen encoder; validate names a bad model.json', async () => {
    const dir = tempDir();
    const circle = (ops: string, modules: string[], extra = '') =>
      writeConfig(
        [
          'seed: 5',
          `data: { c: { kind: circle, n: 300 }${extra} }`,
          'modules:',
          ...modules.map((m) => `  ${m}`),
          `tasks: { t: { data: c, ops: ${ops} } }`,
          'training: { epochs: 8, lr: 0.05, batchSize: 32, optimizer: { type: adam } }',
        ].join('\n'),
        'config.yaml',
        dir,
      );
    // A one-task run, exported: an encoder of [2] rows to the circle task's 2 probabilities.
    const first = circle('[trunk, head]', [
      'trunk: { kind: mlp, hidden: [16, 8] }',
      'head: { kind: dense, units: 2 }',
    ]);
    expect((await cli('train', first, '--out', join(dir, 'first'), '--quiet')).err).toBe('');
    expect(
      (await cli('export', join(dir, 'first'), '--format', 'tfjs-layers', '--out', join(dir, 'enc'))).code,
    ).toBe(0);
    const encoderWeights = readFileSync(join(dir, 'enc', 'weights.bin'));

    const reuse = circle('[enc, new_head]', [
      'enc: { kind: layers, path: enc/model.json, trainable: false }',
      'new_head: { kind: dense, units: 2 }',
    ]);
    const v = await cli('validate', reuse);
    expect(v.err).toBe('');
    expect(v.out).toContain('modules: enc, new_head');
    const r = await cli('train', reuse, '--out', join(dir, 'second'), '--quiet');
    expect(r.err).toBe('');
    const scores = JSON.parse(readFileSync(join(dir, 'second', 'scores.json'), 'utf8'));
    expect(scores['t/c/test/accuracy']).toBeGreaterThanOrEqual(0.85);
    // Frozen: the encoder's weights in the new run's saved model are the exported values.
    const before = tf.memory().numTensors;
    const model = await MultitaskModel.load(join(dir, 'second', 'model', 'model.mtl'));
    const weights = model.getWeights();
    const enc = Object.keys(weights).filter((k) => k.startsWith('enc/'));
    expect(enc.length).toBe(6);
    const saved = enc.flatMap((k) => Array.from(weights[k]!.dataSync())).sort((a, b) => a - b);
    tf.dispose(Object.values(weights));
    model.dispose();
    const exported = Array.from(
      new Float32Array(encoderWeights.buffer, encoderWeights.byteOffset, encoderWeights.byteLength / 4),
    ).sort((a, b) => a - b);
    expect(saved).toEqual(exported);
    expect(tf.memory().numTensors).toBe(before);

    // Errors at validate, each naming the module's path option.
    const missing = await cli(
      'validate',
      circle('[enc, new_head]', [
        'enc: { kind: layers, path: nowhere/model.json }',
        'new_head: { kind: dense, units: 2 }',
      ]),
    );
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(
      /^error \[FILE_NOT_FOUND\]: modules\.enc\.path: no such file: .*nowhere\/model\.json$/,
    );
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    const bad = await cli(
      'validate',
      circle('[enc, new_head]', [
        'enc: { kind: layers, path: bad.json }',
        'new_head: { kind: dense, units: 2 }',
      ]),
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.json is not JSON/);
    expect(bad.err).toMatch(/modules\.enc\.path/);
    const wide = await cli(
      'validate',
      circle('[widen, enc]', [
        'widen: { kind: dense, units: 3 }',
        'enc: { kind: layers, path: enc/model.json }',
      ]),
    );
    expect(wide.code).toBe(2);
    expect(wide.err).toMatch(/takes rows \[2\], but gets rows \[3\]/);
    expect(wide.err).toMatch(/modules\.enc/);
  });
});

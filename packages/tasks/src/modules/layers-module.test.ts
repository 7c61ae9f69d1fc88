import { seedGlobalRandom } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { moduleFromConfig } from '../module-registry.js';
import { layersModule } from './layers-module.js';

const ctx = { training: true, seed: 0 };

describe('layersModule', () => {
  it('adopts a tf.layers layer: its weights become <module>/<weight> and take the gradients', () => {
    const before = tf.memory().numTensors;
    const m = layersModule(tf.layers.dense({ units: 3, activation: 'tanh' }), { inputShape: [4] });
    m.build('encoder');
    expect(m.trainableVariables().map((v) => `${v.name} [${v.shape}]`)).toEqual([
      'encoder/kernel [4,3]',
      'encoder/bias [3]',
    ]);
    const x = tf.tensor2d([[0.1, -0.2, 0.3, 0.4]]);
    tf.tidy(() => {
      const v = m.variables();
      const manual = tf.tanh(tf.add(tf.matMul(x, v.kernel!), v.bias!));
      expect(Array.from((m.apply([x], ctx) as tf.Tensor).dataSync())).toEqual(Array.from(manual.dataSync()));
    });
    const { grads, value } = tf.variableGrads(
      () => tf.sum(m.apply([x], ctx) as tf.Tensor) as tf.Scalar,
      m.trainableVariables(),
    );
    expect(Object.keys(grads).sort()).toEqual(['encoder/bias', 'encoder/kernel']);
    // d/db sum(tanh(z)) = 1 - tanh(z)^2, positive.
    for (const g of grads['encoder/bias']!.dataSync()) expect(g).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads), x]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => m.build('encoder')).toThrow(/was disposed with its module/);
  });

  it('builds under the seed: same seed, same weights', () => {
    const weightsOf = (name: string, seed: number) => {
      const m = layersModule(tf.layers.dense({ units: 5 }), { inputShape: [3] });
      m.build(name, { seed });
      const k = Array.from(m.variables().kernel!.dataSync());
      m.dispose();
      return k;
    };
    expect(weightsOf('a', 1)).toEqual(weightsOf('b', 1));
    expect(weightsOf('a', 1)).not.toEqual(weightsOf('a', 2));
  });

  it('wraps a tf.sequential model with layer-indexed names and rebuilds it from its config', () => {
    const restore = seedGlobalRandom(3);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 4, inputShape: [2], activation: 'relu' }),
        tf.layers.dense({ units: 2 }),
      ],
    });
    restore();
    const m = layersModule(model);
    m.build('seq');
    expect(Object.keys(m.variables())).toEqual([
      'layer_0/kernel',
      'layer_0/bias',
      'layer_1/kernel',
      'layer_1/bias',
    ]);
    const config = JSON.parse(JSON.stringify(m.getConfig()));
    expect(config.className).toBe('Sequential');
    const rebuilt = moduleFromConfig(config);
    rebuilt.build('seq_copy');
    const w = m.getWeights();
    rebuilt.setWeights(w);
    tf.dispose(Object.values(w));
    tf.tidy(() => {
      const x = tf.tensor2d([
        [0.5, -1],
        [2, 0.25],
      ]);
      expect(Array.from((rebuilt.apply([x], ctx) as tf.Tensor).dataSync())).toEqual(
        Array.from((m.apply([x], ctx) as tf.Tensor).dataSync()),
      );
    });
    m.dispose();
    rebuilt.dispose();
  });

  it('explains what it needs', () => {
    expect(() => layersModule(tf.layers.dense({ units: 2 })).build('x')).toThrow(
      /give layersModule an inputShape/,
    );
    expect(() => moduleFromConfig({ type: 'tfLayers', className: 'NoSuchLayer', config: {} })).toThrow(
      /tf.layers class "NoSuchLayer" is not registered/,
    );
  });
});

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BaseModule, type ModuleConfig, type ParamSpec } from './module.js';
import { moduleFromConfig, registeredModuleTypes, registerModule } from './module-registry.js';

class Scale extends BaseModule {
  readonly type = 'scale';
  constructor(readonly size: number) {
    super();
  }
  protected paramSpecs(): ParamSpec[] {
    return [{ name: 'w', shape: [this.size], init: { constant: 2 } }];
  }
  protected forward([x]: tf.Tensor[]): tf.Tensor {
    return tf.mul(x!, this.param('w'));
  }
  getConfig(): ModuleConfig {
    return { type: 'scale', size: this.size };
  }
}

describe('module registry', () => {
  it('rebuilds built-in and registered modules from their configs', () => {
    expect(registeredModuleTypes()).toEqual(
      expect.arrayContaining([
        'activation',
        'dense',
        'dropout',
        'embedding',
        'layerNorm',
        'meanPool',
        'mlp',
        'tfLayers',
      ]),
    );
    registerModule('scale', (config) => new Scale(config.size as number));
    const m = moduleFromConfig({ type: 'scale', size: 3 });
    m.build('scaler');
    tf.tidy(() => {
      expect(
        Array.from((m.apply([tf.tensor1d([1, 2, 3])], { training: false, seed: 0 }) as tf.Tensor).dataSync()),
      ).toEqual([2, 4, 6]);
    });
    m.dispose();
    expect(() => registerModule('scale', (c) => new Scale(c.size as number))).toThrow(/already registered/);
    registerModule('scale', (c) => new Scale(c.size as number), { override: true });
    expect(() => registerModule('dense', (c) => new Scale(c.size as number))).toThrow(/built-in/);
  });

  it('names the unknown type, the registered ones and the place', () => {
    expect(() => moduleFromConfig({ type: 'conv9d' }, 'model.json module enc')).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_MODULE',
        message: expect.stringMatching(
          /^model.json module enc: unknown module type "conv9d" \(registered: activation, dense,/,
        ),
      }),
    );
    expect(() =>
      moduleFromConfig({ type: 'dense', inputSize: -1, units: 2 }, 'model.json module head'),
    ).toThrow('model.json module head dense: inputSize must be an integer >= 1, got -1');
  });
});

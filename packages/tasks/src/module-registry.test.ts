import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseModule, type ModuleConfig, type ParamSpec } from './module.js';
import { defineModuleKind } from './module-kind.js';
import { intOption, parseModuleOptions } from './module-options.js';
import {
  BUILT_IN_MODULE_KINDS,
  moduleFromConfig,
  registeredModuleKinds,
  registeredModuleTypes,
  registerModule,
  registerModuleKind,
} from './module-registry.js';
import { dense } from './modules/dense.js';
import { mlp, mlpSchema } from './modules/mlp.js';

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
          /^model.json module enc: unknown module type "conv9d" \(registered: activation, cgc, conv2d, cross_stitch, dense,/,
        ),
      }),
    );
    expect(() =>
      moduleFromConfig({ type: 'dense', inputSize: -1, units: 2 }, 'model.json module head'),
    ).toThrow('model.json module head dense: inputSize must be an integer >= 1, got -1');
  });

  it('parses options with the kind schema: constructor, fromConfig and schema agree, errors name module and option', () => {
    expect(() => dense({ units: 2, unitz: 3 } as never)).toThrow('dense: unknown option "unitz"');
    expect(() => mlp({ hidden: [8, 'x' as never] })).toThrow(
      'mlp: hidden[1] must be an integer >= 1, got "x"',
    );
    expect(() => dense({ units: 2_000_000 })).toThrow(
      'dense: units must be an integer <= 1000000, got 2000000',
    );
    expect(() => moduleFromConfig({ type: 'mlp', hidden: [4], dropout: 1 }, 'modules.m')).toThrow(
      'modules.m mlp: dropout must be a finite number >= 0 and < 1, got 1',
    );
    expect(mlpSchema.safeParse({ hidden: [4], dropout: 1 }).success).toBe(false);
    expect(BUILT_IN_MODULE_KINDS.map((k) => k.type)).toEqual(
      registeredModuleKinds()
        .map((k) => k.type)
        .slice(0, BUILT_IN_MODULE_KINDS.length),
    );
    expect(registeredModuleKinds().map((k) => k.type)).not.toContain('tfLayers');
  });

  it('registers a kind with its schema: moduleFromConfig parses with it, registeredModuleKinds lists it', () => {
    const scaleKind = defineModuleKind({
      type: 'scale2',
      schema: z.strictObject({ size: intOption() }),
      description: 'Multiplies by a learned vector.',
      create: (options) =>
        new Scale(parseModuleOptions(z.strictObject({ size: intOption() }), options, 'scale2').size),
    });
    registerModuleKind(scaleKind);
    expect(registeredModuleKinds()).toContain(scaleKind);
    expect(() => moduleFromConfig({ type: 'scale2', size: 0 })).toThrow(
      'scale2: size must be an integer >= 1, got 0',
    );
    expect((moduleFromConfig({ type: 'scale2', size: 3 }) as Scale).size).toBe(3);
    expect(() => registerModuleKind(scaleKind)).toThrow(/already registered/);
  });
});

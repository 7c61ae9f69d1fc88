import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BaseModule, type ModuleConfig, type ParamSpec } from './module.js';
import { ModulePool } from './module-pool.js';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';

const pools: ModulePool[] = [];
const pool = (options: ConstructorParameters<typeof ModulePool>[0]) => {
  const p = new ModulePool(options);
  pools.push(p);
  return p;
};
afterEach(() => {
  for (const p of pools.splice(0)) p.dispose();
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('ModulePool', () => {
  it('shares one object under one name, built once with the seed and prefix', () => {
    const trunk = mlp({ inputSize: 2, hidden: [3] });
    const p = pool({ seed: 5, variablePrefix: 'mp1/', user: 'task' });
    expect(p.add([{ name: 'trunk', module: trunk, user: 'a' }])).toEqual(['trunk']);
    expect(p.add([{ name: 'trunk', module: trunk, user: 'b' }])).toEqual([]);
    expect(p.size).toBe(1);
    expect(p.usersOf('trunk')).toEqual(['a', 'b']);
    expect(p.variables().map((v) => v.name)).toEqual(['mp1/trunk/dense_0/kernel', 'mp1/trunk/dense_0/bias']);
    // The same numbers as a module built by hand with the pool's seed.
    const alone = mlp({ inputSize: 2, hidden: [3] });
    alone.build('trunk', { seed: 5, prefix: 'mp1-alone/' });
    expect(values(trunk.variables()['dense_0/kernel']!)).toEqual(
      values(alone.variables()['dense_0/kernel']!),
    );
    alone.dispose();
  });

  it('refuses another object under a taken name, or one object under two names, naming both users', () => {
    const before = tf.memory().numTensors;
    const p = pool({ variablePrefix: 'mp2/', user: 'task' });
    const head = dense({ inputSize: 2, units: 2 });
    p.add([{ name: 'head', module: head, user: 'a' }]);
    const other = dense({ inputSize: 2, units: 2 });
    const fresh = dense({ inputSize: 2, units: 2 });
    expect(() =>
      p.add([
        { name: 'fresh', module: fresh, user: 'c' },
        { name: 'head', module: other, user: 'c' },
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'MODULE_CONFLICT',
        reason:
          'tasks a and c both have a module named "head" but they are different objects; modules are shared by name, so use one object or two names',
      }),
    );
    expect(() => p.add([{ name: 'head2', module: head, user: 'd' }])).toThrow(
      'task d names a module "head2" that task a calls "head"; one module object has one name',
    );
    // Nothing joined or was built by the refused calls.
    expect(p.names()).toEqual(['head']);
    expect(fresh.isBuilt).toBe(false);
    expect(tf.memory().numTensors).toBe(before + 2);
    const users = pool({ variablePrefix: 'mp2b/' });
    users.add([{ name: 'x', module: dense({ inputSize: 1, units: 1 }), user: 'u' }]);
    expect(() => users.add([{ name: 'x', module: dense({ inputSize: 1, units: 1 }), user: 'v' }])).toThrow(
      /: users u and v both have a module named "x"/,
    );
  });

  it('leaves frozen modules out of trainableVariables but not out of variables', () => {
    const p = pool({ variablePrefix: 'mp3/' });
    p.add([
      { name: 'trunk', module: dense({ inputSize: 2, units: 3 }), user: 'a' },
      { name: 'head', module: dense({ inputSize: 3, units: 1 }), user: 'a' },
    ]);
    p.freeze(['trunk']);
    expect(p.frozen).toEqual(['trunk']);
    expect(p.trainableVariables().map((v) => v.name)).toEqual(['mp3/head/kernel', 'mp3/head/bias']);
    expect(p.variables()).toHaveLength(4);
    p.unfreeze(['trunk']);
    expect(p.trainableVariables()).toHaveLength(4);
    expect(() => p.freeze(['trunk', 'nope'])).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODULE' }));
    expect(p.frozen).toEqual([]);
    expect(p.parameterCount()).toBe(2 * 3 + 3 + 3 * 1 + 1);
  });

  it('round-trips a state dict keyed module/param and checks shapes naming module and parameter', () => {
    const make = (prefix: string, seed: number) => {
      const p = pool({ seed, variablePrefix: prefix });
      p.add([
        { name: 'trunk', module: mlp({ inputSize: 2, hidden: [3] }), user: 'a' },
        { name: 'head', module: dense({ inputSize: 3, units: 2 }), user: 'a' },
      ]);
      return p;
    };
    const a = make('mp4a/', 1);
    const b = make('mp4b/', 2);
    const w = a.getWeights();
    expect(Object.keys(w)).toEqual([
      'trunk/dense_0/kernel',
      'trunk/dense_0/bias',
      'head/kernel',
      'head/bias',
    ]);
    expect(values(b.getWeights()['head/kernel']!)).not.toEqual(values(w['head/kernel']!));
    b.setWeights(w);
    const back = b.getWeights();
    for (const k of Object.keys(w)) expect(values(back[k]!)).toEqual(values(w[k]!));
    const bad = tf.zeros([3, 5]);
    expect(() => b.setWeights({ 'trunk/dense_0/bias': tf.zeros([3]), 'head/kernel': bad })).toThrow(
      'module "head" parameter "kernel" has shape [3,2] but the weights have [3,5]',
    );
    expect(() => b.setWeights({ 'tail/kernel': bad })).toThrow(/no module owns weight "tail\/kernel"/);
    tf.dispose([...Object.values(w), ...Object.values(back), bad]);
  });

  it('loads saved weights with a report of reused, reshaped, new and dropped modules', () => {
    const before = tf.memory().numTensors;
    const src = pool({ seed: 1, variablePrefix: 'mp5a/' });
    src.add([
      { name: 'trunk', module: dense({ inputSize: 2, units: 3 }), user: 'a' },
      { name: 'head', module: dense({ inputSize: 3, units: 2 }), user: 'a' },
      { name: 'old_head', module: dense({ inputSize: 3, units: 1 }), user: 'b' },
    ]);
    const saved = src.toSaved();
    const dst = pool({ seed: 2, variablePrefix: 'mp5b/' });
    dst.add([
      { name: 'trunk', module: dense({ inputSize: 2, units: 3 }), user: 'a' },
      { name: 'head', module: dense({ inputSize: 3, units: 4 }), user: 'a' },
      { name: 'new_head', module: dense({ inputSize: 3, units: 1 }), user: 'c' },
    ]);
    const headBefore = values(dst.get('head').variables().kernel!);
    expect(() => dst.load(saved, { place: 'src.mtl' })).toThrow(
      'src.mtl: module "head" parameter "bias" has shape [4] but the saved one has [2]',
    );
    expect(() => dst.load(saved, { onMismatch: 'reinit', onMissing: 'error' })).toThrow(
      'module "new_head" is not in the saved model',
    );
    expect(dst.compare(saved)).toEqual({
      reused: ['trunk'],
      reshaped: ['head'],
      new: ['new_head'],
      dropped: ['old_head'],
    });
    const report = dst.load(saved, { onMismatch: 'reinit' });
    expect(report).toEqual({
      reused: ['trunk'],
      reshaped: ['head'],
      new: ['new_head'],
      dropped: ['old_head'],
    });
    expect(values(dst.get('trunk').variables().kernel!)).toEqual(Array.from(saved.trunk!.kernel!.values));
    expect(values(dst.get('head').variables().kernel!)).toEqual(headBefore);
    expect(dst.load(saved, { modules: ['trunk'] })).toEqual({
      reused: ['trunk'],
      reshaped: [],
      new: [],
      dropped: ['old_head'],
    });
    src.dispose();
    dst.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('renames legacy parameter names with the module hook before comparing', () => {
    class Moved extends BaseModule {
      readonly type = 'moved';
      protected paramSpecs(): ParamSpec[] {
        return [{ name: 'inner/w', shape: [2], init: 'ones' }];
      }
      protected forward([x]: tf.Tensor[]) {
        return tf.mul(x!, this.param('inner/w'));
      }
      getConfig(): ModuleConfig {
        return { type: 'moved' };
      }
      override upgradeWeightNames<T>(weights: Record<string, T>): Record<string, T> {
        return Object.fromEntries(Object.entries(weights).map(([k, v]) => [k === 'w' ? 'inner/w' : k, v]));
      }
    }
    const p = pool({ variablePrefix: 'mp6/' });
    p.add([{ name: 'm', module: new Moved(), user: 'a' }]);
    const old = { m: { w: { shape: [2], dtype: 'float32' as const, values: new Float32Array([3, 4]) } } };
    expect(p.load(old)).toEqual({ reused: ['m'], reshaped: [], new: [], dropped: [] });
    expect(values(p.get('m').variables()['inner/w']!)).toEqual([3, 4]);
  });

  it('frees a module when the last pool holding it lets go, and when its last user leaves', () => {
    const before = tf.memory().numTensors;
    const shared = dense({ inputSize: 2, units: 2 });
    const own = dense({ inputSize: 2, units: 1 });
    const a = pool({ variablePrefix: 'mp7/' });
    const b = pool({ variablePrefix: 'mp7/' });
    a.add([
      { name: 'shared', module: shared, user: 'x' },
      { name: 'own', module: own, user: 'y' },
    ]);
    b.add([{ name: 'shared', module: shared, user: 'z' }]);
    expect(a.removeUser('y')).toEqual(['own']);
    expect(own.isBuilt).toBe(false);
    a.dispose();
    expect(shared.isBuilt).toBe(true);
    expect(() => a.names()).not.toThrow();
    expect(() => a.add([])).toThrow(/disposed/);
    b.dispose();
    expect(shared.isBuilt).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });
});

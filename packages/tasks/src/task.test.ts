import { Scorer } from '@mtl/scoring';
import { describe, expect, it } from 'vitest';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { Operation } from './operation.js';
import { Task } from './task.js';

const pool = () => ({
  base_mlp: mlp({ inputSize: 2, hidden: [8, 4] }),
  head: dense({ inputSize: 4, units: 2 }),
});

describe('Task', () => {
  it('has the tutorial defaults: multiclass, label = name, weight 1, accuracy', () => {
    const t = new Task({
      name: 'circle_task',
      modulePool: pool(),
      opSequence: [
        { moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] },
        { moduleName: 'head', inputs: ['base_mlp'] },
      ],
    });
    expect([t.kind, t.label, t.weight, t.outputOp]).toEqual(['multiclass', 'circle_task', 1, 'head']);
    expect(t.scorer.metricKeys).toEqual(['accuracy']);
    expect(t.inputFields).toEqual(['circle_data']);
    expect(t.opKeys).toEqual(['base_mlp(_input_.circle_data)', 'head(base_mlp(_input_.circle_data))']);
    expect(t.toSpec()).toEqual({
      name: 'circle_task',
      kind: 'multiclass',
      label: 'circle_task',
      weight: 1,
      opSequence: [
        { name: 'base_mlp', moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] },
        { name: 'head', moduleName: 'head', inputs: ['base_mlp'] },
      ],
      modules: ['base_mlp', 'head'],
      scorer: { metrics: ['accuracy'], abstainLabel: -1, onUndefined: 'zero', customMetrics: [] },
      customLoss: false,
      customOutput: false,
    });
  });

  it('regression defaults to mse without an abstain label; scorers may be given as options', () => {
    const r = new Task({
      name: 'r',
      kind: 'regression',
      modulePool: { h: dense({ inputSize: 2, units: 1 }) },
      opSequence: [{ moduleName: 'h', inputs: [['_input_', 'x']] }],
    });
    expect(r.scorer.metricKeys).toEqual(['mse']);
    expect(r.scorer.abstainLabel).toBeNull();
    const c = new Task({
      name: 'c',
      label: 'y',
      modulePool: { h: dense({ inputSize: 2, units: 3 }) },
      opSequence: [{ moduleName: 'h', inputs: [['_input_', 'x']] }],
      scorer: { metrics: ['accuracy', 'f1_macro'] },
    });
    expect(c.scorer.metricKeys).toEqual(['accuracy', 'f1_macro']);
    const s = new Scorer({ metrics: ['accuracy'] });
    expect(
      new Task({
        name: 'd',
        modulePool: { h: dense({ inputSize: 2, units: 2 }) },
        opSequence: [{ moduleName: 'h', inputs: [['_input_', 'x']] }],
        scorer: s,
      }).scorer,
    ).toBe(s);
  });

  it('names the task, the operation and the known modules for an unknown module', () => {
    expect(
      () =>
        new Task({
          name: 'square_task',
          modulePool: pool(),
          opSequence: [
            new Operation({ moduleName: 'base_mlp', inputs: [['_input_', 'square_data']] }),
            new Operation({ moduleName: 'square_head', inputs: ['base_mlp'] }),
          ],
        }),
    ).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_MODULE',
        message:
          'task square_task opSequence[1] (square_head): unknown module "square_head" (modules of the task: base_mlp, head)',
      }),
    );
  });

  it('refuses forward references, self references, unknown operations and duplicate names', () => {
    const make = (opSequence: ConstructorParameters<typeof Operation>[0][]) => () =>
      new Task({ name: 't', modulePool: pool(), opSequence });
    expect(
      make([
        { moduleName: 'head', inputs: ['base_mlp'] },
        { moduleName: 'base_mlp', inputs: [['_input_', 'x']] },
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'CYCLE',
        message:
          'task t opSequence[0] (head): reads "base_mlp", which is defined later (opSequence[1]); an operation reads only earlier ones',
      }),
    );
    expect(make([{ moduleName: 'head', inputs: ['head'] }])).toThrow(
      expect.objectContaining({
        code: 'CYCLE',
        message: expect.stringContaining('reads "head", which is itself'),
      }),
    );
    expect(make([{ moduleName: 'head', inputs: ['encoder'] }])).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message:
          'task t opSequence[0] (head): reads "encoder", which no operation of the task is named (operations: head)',
      }),
    );
    expect(
      make([
        { moduleName: 'base_mlp', inputs: [['_input_', 'x']] },
        { moduleName: 'base_mlp', inputs: [['_input_', 'y']] },
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'DUPLICATE_NAME',
        message: expect.stringContaining('opSequence[1] and opSequence[0]'),
      }),
    );
  });

  it('validates its other options', () => {
    const base = {
      modulePool: pool(),
      opSequence: [{ moduleName: 'head', inputs: [['_input_', 'x']] as const }],
    };
    expect(() => new Task({ ...base, name: 'a/b' })).toThrow(/without '\/'/);
    expect(() => new Task({ ...base, name: 't', kind: 'ranking' as never })).toThrow(/kind must be one of/);
    expect(() => new Task({ ...base, name: 't', weight: -1 })).toThrow(
      'task t: weight must be a finite number >= 0, got -1',
    );
    expect(() => new Task({ ...base, name: 't', opSequence: [] })).toThrow(
      /opSequence must be a non-empty list/,
    );
    expect(() => new Task({ ...base, name: 't', modulePool: {} })).toThrow(
      /modulePool must hold at least one module/,
    );
    expect(() => new Task({ ...base, name: 't', modulePool: { head: {} as never } })).toThrow(
      /modulePool.head is not a Module/,
    );
  });
});

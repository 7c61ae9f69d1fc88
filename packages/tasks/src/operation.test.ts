import { describe, expect, it } from 'vitest';
import { Operation } from './operation.js';

describe('Operation', () => {
  it('defaults its name to the module name and lists the operations it reads', () => {
    const op = new Operation({
      moduleName: 'head',
      inputs: ['base_mlp', ['_input_', 'x'], ['enc', 'hidden'], ['split', 1]],
    });
    expect(op.name).toBe('head');
    expect(op.opDependencies()).toEqual(['base_mlp', 'enc', 'split']);
    expect(JSON.parse(JSON.stringify(op))).toEqual({
      name: 'head',
      moduleName: 'head',
      inputs: ['base_mlp', ['_input_', 'x'], ['enc', 'hidden'], ['split', 1]],
    });
    expect(
      new Operation({ name: 'circle_head', moduleName: 'circle_head_module', inputs: ['base_mlp'] }).name,
    ).toBe('circle_head');
  });

  it('rejects malformed inputs, naming the operation and the input', () => {
    expect(() => new Operation({ moduleName: 'm', inputs: [] })).toThrow(
      'operation m: inputs must be a non-empty list',
    );
    expect(() => new Operation({ moduleName: 'm', inputs: ['_input_'] })).toThrow(
      'operation m inputs[0]: "_input_" needs a field: ["_input_", "field"]',
    );
    expect(() => new Operation({ moduleName: 'm', inputs: [['a', 'b', 'c'] as never] })).toThrow(
      /operation m inputs\[0\]: an input is "opName", \["_input_", field\] or \[opName, key\]/,
    );
    expect(() => new Operation({ moduleName: '', inputs: ['x'] })).toThrow(
      /moduleName must be a non-empty string/,
    );
    expect(() => new Operation({ name: '_input_', moduleName: 'm', inputs: ['x'] })).toThrow(
      /other than "_input_"/,
    );
  });
});

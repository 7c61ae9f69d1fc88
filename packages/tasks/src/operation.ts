import { MtlError } from '@mtl/core';

/**
 * The source name that reads a field of the batch's inputs.
 * @example
 * const input: OperationInput = [INPUT_SOURCE, 'circle_data']; // ['_input_', 'circle_data']
 */
export const INPUT_SOURCE = '_input_';

/**
 * One input of an operation:
 * - `["_input_", field]`: the batch's input field;
 * - `"opName"`: the whole output of an earlier operation of the same task;
 * - `[opName, key]`: one entry of an earlier operation's output (a named output or a list index).
 * @example
 * const inputs: OperationInput[] = [['_input_', 'text'], 'encoder', ['encoder', 'mask']];
 */
export type OperationInput = string | readonly [source: string, key: string | number];

/**
 * Options of {@link Operation}.
 * @example
 * const options: OperationOptions = { moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] };
 */
export interface OperationOptions {
  /** Name other operations refer to; default `moduleName`. */
  name?: string;
  /** Key of the module in the task's module pool. */
  moduleName: string;
  inputs: readonly OperationInput[];
}

/**
 * Plain JSON form of an {@link Operation} (what saved models keep).
 * @example
 * op.toJSON(); // { name: 'base_mlp', moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] }
 */
export interface OperationSpec {
  name: string;
  moduleName: string;
  inputs: OperationInput[];
}

/**
 * One step of a task's flow: run module `moduleName` on `inputs`. Several inputs reach the
 * module as a list (built-in single-input modules concatenate it along the last axis).
 * @example
 * const op1 = new Operation({ moduleName: 'base_mlp', inputs: [['_input_', 'circle_data']] });
 * const op2 = new Operation({ name: 'circle_head', moduleName: 'circle_head_module', inputs: ['base_mlp'] });
 */
export class Operation {
  readonly name: string;
  readonly moduleName: string;
  readonly inputs: readonly OperationInput[];

  constructor(options: OperationOptions) {
    const place = `operation ${options?.name ?? options?.moduleName ?? '?'}`;
    if (options === null || typeof options !== 'object') {
      throw new MtlError('INVALID_ARGUMENT', 'expects {name?, moduleName, inputs}', { place: 'operation' });
    }
    if (typeof options.moduleName !== 'string' || options.moduleName.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'moduleName must be a non-empty string', { place });
    }
    const name = options.name ?? options.moduleName;
    if (typeof name !== 'string' || name.length === 0 || name === INPUT_SOURCE) {
      throw new MtlError('INVALID_ARGUMENT', `name must be a non-empty string other than "${INPUT_SOURCE}"`, {
        place,
      });
    }
    if (!Array.isArray(options.inputs) || options.inputs.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'inputs must be a non-empty list', { place });
    }
    this.inputs = options.inputs.map((input, i) => checkInput(input, `${place} inputs[${i}]`));
    this.name = name;
    this.moduleName = options.moduleName;
  }

  /** Names of the earlier operations this one reads. */
  opDependencies(): string[] {
    return this.inputs.flatMap((input) => {
      const source = typeof input === 'string' ? input : input[0];
      return source === INPUT_SOURCE ? [] : [source];
    });
  }

  toJSON(): OperationSpec {
    return {
      name: this.name,
      moduleName: this.moduleName,
      inputs: this.inputs.map((i) => (typeof i === 'string' ? i : [i[0], i[1]])),
    };
  }
}

function checkInput(input: unknown, place: string): OperationInput {
  if (typeof input === 'string') {
    if (input.length === 0) throw new MtlError('INVALID_ARGUMENT', 'an input name is empty', { place });
    if (input === INPUT_SOURCE) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `"${INPUT_SOURCE}" needs a field: ["${INPUT_SOURCE}", "field"]`,
        {
          place,
        },
      );
    }
    return input;
  }
  if (
    Array.isArray(input) &&
    input.length === 2 &&
    typeof input[0] === 'string' &&
    input[0].length > 0 &&
    (typeof input[1] === 'string' || (typeof input[1] === 'number' && Number.isInteger(input[1])))
  ) {
    if (input[0] === INPUT_SOURCE && typeof input[1] !== 'string') {
      throw new MtlError('INVALID_ARGUMENT', `an "${INPUT_SOURCE}" field must be a string`, { place });
    }
    return [input[0], input[1]] as const;
  }
  throw new MtlError(
    'INVALID_ARGUMENT',
    `an input is "opName", ["${INPUT_SOURCE}", field] or [opName, key], got ${JSON.stringify(input)}`,
    { place },
  );
}

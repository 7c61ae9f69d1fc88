import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, isEmptyOrMissing, tempDir, writeConfig } from './helpers.js';

/** A valid base config; each case breaks one thing. */
const BASE = `
seed: 1
data:
  circleDataset: { kind: circle, n: 200 }
  squareDataset: { kind: square, n: 200 }
modules:
  base_mlp: { kind: mlp, inputSize: 2, hidden: [8, 4] }
  circle_head: { kind: dense, inputSize: 4, units: 2 }
  square_head: { kind: dense, inputSize: 4, units: 2 }
tasks:
  circle_task: { data: circleDataset, ops: [base_mlp, circle_head] }
  square_task: { data: squareDataset, ops: [base_mlp, square_head] }
training: { epochs: 1 }
`;

const SENSORS = join(EXAMPLES, 'data', 'sensors.csv');

interface Case {
  name: string;
  /** Full config text, or a replacement applied to BASE. */
  config?: string;
  replace?: [string | RegExp, string];
  set?: string[];
  /** Substrings the error message must contain (the place first). */
  expect: string[];
}

const cases: Case[] = [
  { name: 'seed of the wrong type', replace: ['seed: 1', 'seed: abc'], expect: ['seed:'] },
  { name: 'negative seed', replace: ['seed: 1', 'seed: -3'], expect: ['seed:'] },
  { name: 'unknown top-level key', replace: ['seed: 1', 'seed: 1\nsed: 2'], expect: ['unknown key "sed"'] },
  { name: 'no data section', replace: [/data:\n(.*\n){2}/, ''], expect: ['data:'] },
  {
    name: 'empty task list',
    replace: [/tasks:\n(.*\n){2}/, 'tasks: {}\n'],
    expect: ['tasks:', 'at least one task'],
  },
  {
    name: 'unknown key in a task',
    replace: ['circle_task: { data: circleDataset,', 'circle_task: { foo: 1, data: circleDataset,'],
    expect: ['tasks.circle_task: unknown key "foo"'],
  },
  {
    name: 'unknown module in an operation sequence',
    replace: ['ops: [base_mlp, square_head]', 'ops: [base_mlp, sqare_head]'],
    expect: [
      'tasks.square_task.ops[1]: unknown module "sqare_head" (known: base_mlp, circle_head, square_head)',
    ],
  },
  {
    name: 'unknown data source',
    replace: ['data: squareDataset', 'data: squareDataste'],
    expect: ['tasks.square_task.data', 'unknown data source "squareDataste"'],
  },
  { name: 'unknown module kind', replace: ['kind: mlp', 'kind: conv'], expect: ['modules.base_mlp.kind'] },
  {
    name: 'a module over the parameter cap once its input width is inferred',
    set: [
      'modules.base_mlp.hidden=[8, 200]',
      'modules.circle_head={kind: dense, units: 1000000}',
      'modules.square_head={kind: dense, units: 2}',
    ],
    expect: ['modules.circle_head: this module would have 2.01e+8 parameters (at most 1e+8)'],
  },
  {
    name: 'a module shared by two tasks whose inputs differ in width',
    config: `data:\n  a: { kind: csv, path: ${SENSORS}, fields: { x: [x1, x2] }, labels: { status: { column: status, classes: [ok, alarm] } } }\n  b: { kind: csv, path: ${SENSORS}, fields: { x: [x1, x2, x3] }, labels: { status: { column: status, classes: [ok, alarm] } } }\ntasks:\n  ta: { data: a, ops: [m, h] }\n  tb: { data: b, ops: [m, h] }\nmodules:\n  m: { kind: mlp, hidden: [4] }\n  h: { kind: dense, units: 2 }\n`,
    expect: [
      'modules.m.inputSize',
      'module "m" is shared by tasks ta (operation m) and tb (operation m), which feed it rows of shapes [2] and [3]',
    ],
  },
  {
    name: 'negative units',
    replace: ['inputSize: 4, units: 2 }\n  square', 'inputSize: 4, units: -2 }\n  square'],
    expect: ['modules.circle_head.units'],
  },
  {
    name: 'huge units',
    replace: ['inputSize: 4, units: 2 }\n  square', 'inputSize: 4, units: 1e12 }\n  square'],
    expect: ['modules.circle_head.units'],
  },
  {
    name: 'empty hidden list',
    replace: ['hidden: [8, 4]', 'hidden: []'],
    expect: ['modules.base_mlp.hidden'],
  },
  {
    name: 'unknown activation',
    replace: ['hidden: [8, 4]', 'hidden: [8, 4], activation: relu7'],
    expect: ['modules.base_mlp.activation'],
  },
  { name: 'zero epochs', replace: ['epochs: 1', 'epochs: 0'], expect: ['training.epochs'] },
  { name: 'negative learning rate', replace: ['epochs: 1', 'epochs: 1, lr: -0.1'], expect: ['training.lr'] },
  {
    name: 'unknown optimizer',
    replace: ['epochs: 1', 'epochs: 1, optimizer: { type: adagrad }'],
    expect: ['training.optimizer.type'],
  },
  {
    name: 'fractional batch size',
    replace: ['epochs: 1', 'epochs: 1, batchSize: 1.5'],
    expect: ['training.batchSize'],
  },
  {
    name: 'unknown scheduler',
    replace: ['epochs: 1', 'epochs: 1, scheduler: random'],
    expect: ['training.scheduler'],
  },
  {
    name: 'checkpointDir is the app\u2019s',
    replace: ['epochs: 1', 'epochs: 1, checkpointDir: /tmp/x'],
    expect: ['training.checkpointDir'],
  },
  {
    name: 'split ratios that do not sum to 1',
    replace: ['{ kind: circle, n: 200 }', '{ kind: circle, n: 200, splits: { train: 0.8, test: 0.3 } }'],
    expect: ['data.circleDataset.splits', 'sum to 1'],
  },
  {
    name: 'unknown data kind',
    replace: ['kind: circle', 'kind: spiral'],
    expect: ['data.circleDataset.kind'],
  },
  {
    name: 'negative size',
    replace: ['kind: circle, n: 200', 'kind: circle, n: -5'],
    expect: ['data.circleDataset.n'],
  },
  {
    name: 'forward reference in an operation sequence',
    replace: [
      'ops: [base_mlp, circle_head]',
      'ops: [{ module: circle_head, inputs: [base_mlp] }, { module: base_mlp, inputs: [[_input_, circle_data]] }]',
    ],
    expect: ['tasks.circle_task.ops[0].inputs[0]', 'defined at or after it'],
  },
  {
    name: 'an operation reading itself (cycle)',
    replace: [
      'ops: [base_mlp, circle_head]',
      'ops: [base_mlp, { module: circle_head, inputs: [circle_head] }]',
    ],
    expect: ['tasks.circle_task.ops[1].inputs[0]'],
  },
  {
    name: 'duplicate operation names',
    replace: ['ops: [base_mlp, circle_head]', 'ops: [base_mlp, base_mlp]'],
    expect: ['tasks.circle_task.ops[1]', 'defined twice'],
  },
  {
    name: '_input_ naming an unknown field',
    replace: [
      'ops: [base_mlp, circle_head]',
      'ops: [{ module: base_mlp, inputs: [[_input_, xy]] }, circle_head]',
    ],
    expect: ['tasks.circle_task.ops[0].inputs[0]'],
  },
  {
    name: 'unknown input field',
    replace: ['circle_task: { data: circleDataset,', 'circle_task: { input: xy, data: circleDataset,'],
    expect: ['tasks.circle_task.input', 'no field "xy"'],
  },
  {
    name: 'unknown label',
    replace: ['circle_task: { data: circleDataset,', 'circle_task: { label: inside, data: circleDataset,'],
    expect: ['tasks.circle_task.label', 'no label "inside"'],
  },
  {
    name: 'unknown task kind',
    replace: ['circle_task: { data: circleDataset,', 'circle_task: { kind: ranking, data: circleDataset,'],
    expect: ['tasks.circle_task.kind'],
  },
  {
    name: 'unknown metric',
    replace: [
      'circle_task: { data: circleDataset,',
      'circle_task: { metrics: [acuracy], data: circleDataset,',
    ],
    expect: ['tasks.circle_task', 'acuracy', 'accuracy'],
  },
  {
    name: 'a module that does not fit its input',
    replace: ['inputSize: 2, hidden: [8, 4]', 'inputSize: 3, hidden: [8, 4]'],
    expect: ['modules.base_mlp.inputSize', 'inputSize is 3 but the input has 2 values per row'],
  },
  {
    name: 'a head whose input size does not match the trunk',
    replace: ['circle_head: { kind: dense, inputSize: 4', 'circle_head: { kind: dense, inputSize: 5'],
    expect: [
      'modules.circle_head.inputSize',
      'module "circle_head" in task circle_task operation circle_head: inputSize is 5 but the input has 4 values per row',
    ],
  },
  {
    name: '__proto__ key',
    replace: ['seed: 1', 'seed: 1\n__proto__: { polluted: true }'],
    expect: ['"__proto__" is not allowed'],
  },
  {
    name: 'constructor key',
    replace: ['circle_task: {', 'circle_task: { constructor: 1,'],
    expect: ['"constructor" is not allowed'],
  },
  {
    name: 'YAML syntax error',
    config: 'seed: 1\ndata: [unclosed\n',
    expect: ['config.yaml:', 'invalid YAML'],
  },
  { name: 'empty file', config: '', expect: ['the config is empty'] },
  { name: 'a list instead of a mapping', config: '- 1\n- 2\n', expect: ['must be a mapping'] },
  { name: 'unknown backend', replace: ['seed: 1', 'seed: 1\nbackend: gpu'], expect: ['backend'] },
  {
    name: 'unknown model kind',
    replace: ['seed: 1', 'seed: 1\nmodel: { kind: moe }'],
    expect: ['model.kind'],
  },
  {
    name: 'checkpoint metric never produced',
    replace: ['epochs: 1', 'epochs: 1, checkpointMetric: circle_task/circleDataset/valid/acc'],
    expect: ['training.checkpointMetric', 'is never produced', 'circle_task/circleDataset/valid/accuracy'],
  },
  {
    name: 'task weights in the training section (one spelling: tasks.<name>.weight)',
    replace: ['epochs: 1', 'epochs: 1, taskWeights: { circle_task: 2 }'],
    expect: ['training.taskWeights', 'use tasks.<name>.weight'],
  },
  {
    name: 'missing CSV file',
    config: `data:\n  s: { kind: csv, path: nowhere.csv, fields: { x: [x1] } }\ntasks:\n  t: { data: s, ops: [m] }\nmodules:\n  m: { kind: dense, inputSize: 1, units: 2 }\n`,
    expect: ['nowhere.csv'],
  },
  {
    name: 'CSV without a mapped column',
    config: `data:\n  s: { kind: csv, path: ${SENSORS}, fields: { x: [x1, x9] }, labels: { status: { column: status, classes: [ok, alarm] } } }\ntasks:\n  t: { data: s, ops: [m] }\nmodules:\n  m: { kind: dense, inputSize: 2, units: 2 }\n`,
    expect: ['sensors.csv', 'x9'],
  },
  {
    name: 'CSV label outside its classes',
    config: `data:\n  s: { kind: csv, path: ${SENSORS}, fields: { x: [x1] }, labels: { status: { column: status, classes: [ok] } } }\ntasks:\n  t: { data: s, ops: [m] }\nmodules:\n  m: { kind: dense, inputSize: 1, units: 2 }\n`,
    expect: ['sensors.csv', 'alarm'],
  },
  {
    name: 'CSV with both path and files',
    config: `data:\n  s: { kind: csv, path: a.csv, files: { train: b.csv }, fields: { x: [x1] } }\ntasks:\n  t: { data: s, ops: [m] }\nmodules:\n  m: { kind: dense, inputSize: 1, units: 2 }\n`,
    expect: ['data.s', 'either "path"'],
  },
  {
    name: 'deep vmtl task beside a task without an operation sequence',
    config: `model: { kind: vmtl }\ndata:\n  l: { kind: logistic_tasks, tasks: 2, sizes: 50 }\nmodules:\n  m: { kind: dense, inputSize: 2, units: 2 }\ntasks:\n  task1: { data: l, ops: [m] }\n  task2: { data: l }\n`,
    expect: ['tasks.task2.ops', 'every task needs "ops"'],
  },
  { name: '--set through a number', set: ['seed.x=1'], expect: ['--set seed.x=1', 'not a section'] },
  { name: '--set of an unknown key', set: ['training.epochz=3'], expect: ['training: unknown key "epochz"'] },
  {
    name: '--set without a value',
    set: ['training.epochs'],
    expect: ['--set training.epochs', 'PATH=VALUE'],
  },
  { name: '--set of a wrong type', set: ['training.epochs=many'], expect: ['training.epochs'] },
  { name: '--set of __proto__', set: ['__proto__.x=1'], expect: ['"__proto__" is not allowed'] },
];

describe('malformed configs exit 2, name the place, and leave no run directory', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const text = c.config ?? (c.replace ? BASE.replace(c.replace[0], c.replace[1]) : BASE);
    if (c.replace) expect(text, 'the replacement must apply').not.toBe(BASE);
    const file = writeConfig(text);
    const out = join(tempDir(), 'run');
    const r = await cli('train', file, '--out', out, ...(c.set ?? []).flatMap((s) => ['--set', s]));
    expect(r.code, r.err).toBe(2);
    for (const part of c.expect) expect(r.err).toContain(part);
    expect(r.err).toMatch(/^error \[[A-Z_]+\]: /);
    expect(r.err).not.toContain('    at ');
    expect(isEmptyOrMissing(out)).toBe(true);
  });

  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it('bad arguments exit 2', async () => {
    expect((await cli('train')).code).toBe(2);
    expect((await cli('train', 'a.yaml', 'b.yaml')).err).toContain('expected one config file');
    expect((await cli('train', join(EXAMPLES, 'snorkel-basics.yaml'), '--epochs', '3')).err).toContain(
      "Unknown option '--epochs'",
    );
    expect((await cli('train', '/no/such/config.yaml')).err).toContain('/no/such/config.yaml: no such file');
    expect((await cli('fly')).err).toContain('unknown command "fly"');
    expect((await cli('predict', '/tmp', '--task', 't')).err).toContain('--input is required');
    expect((await cli('score', '/tmp/not-a-run')).err).toContain('is not a finished run');
    expect((await cli('train', join(EXAMPLES, 'snorkel-basics.yaml'), '--backend', 'gpu')).err).toContain(
      'unknown backend "gpu"',
    );
  });

  it('an existing non-empty --out is refused', async () => {
    const dir = tempDir();
    writeConfig('x', 'keep.txt', dir);
    const r = await cli(
      'train',
      join(EXAMPLES, 'snorkel-basics.yaml'),
      '--out',
      dir,
      '--set',
      'training.epochs=1',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('already holds files');
  });

  it('--verbose adds the stack trace', async () => {
    const r = await cli('train', '/no/such/config.yaml', '--verbose');
    expect(r.code).toBe(2);
    expect(r.err).toContain('    at ');
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cli, isEmptyOrMissing, tempDir } from './helpers.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A valid, cheap config; every mutation below must make it invalid. */
function baseConfig(): { [k: string]: Json } {
  return {
    seed: 3,
    data: { pts: { kind: 'circle', n: 60 }, sq: { kind: 'square', n: 60 } },
    modules: {
      trunk: { kind: 'mlp', inputSize: 2, hidden: [4] },
      head_a: { kind: 'dense', inputSize: 4, units: 2 },
      head_b: { kind: 'dense', inputSize: 4, units: 2 },
    },
    tasks: {
      a: { data: 'pts', ops: ['trunk', 'head_a'] },
      b: { data: 'sq', ops: ['trunk', 'head_b'] },
    },
    training: { epochs: 1, batchSize: 16, lr: 0.01, optimizer: { type: 'adam' } },
  };
}

const SECTIONS = /(seed|backend|data|modules|tasks|training|model)(\.|\[|:| )/;

function getParent(obj: { [k: string]: Json }, path: (string | number)[]): { [k: string]: Json } | Json[] {
  let node: Json = obj;
  for (const p of path.slice(0, -1)) node = (node as { [k: string]: Json })[p as string] as Json;
  return node as { [k: string]: Json } | Json[];
}

function setAt(obj: { [k: string]: Json }, path: (string | number)[], value: Json | undefined): void {
  const parent = getParent(obj, path) as { [k: string]: Json };
  const last = path[path.length - 1]!;
  if (value === undefined) delete parent[last as string];
  else parent[last as string] = value;
}

/** Numeric leaves and values each of them refuses. */
const NUMERIC: Array<[(string | number)[], Json[]]> = [
  [['seed'], [-1, 1.5, 1e15, 'seven']],
  [
    ['data', 'pts', 'n'],
    [0, -4, 2.5, 1e15, '60'],
  ],
  [
    ['modules', 'trunk', 'inputSize'],
    [0, -2, 1.5, 1e15, '2'],
  ],
  [
    ['modules', 'trunk', 'hidden', 0],
    [0, -4, 0.5, 1e15, 'four'],
  ],
  [
    ['modules', 'head_a', 'units'],
    [0, -2, 2.5, 1e9, true],
  ],
  [
    ['training', 'epochs'],
    [0, -1, 1.5, 'ten', null],
  ],
  [
    ['training', 'batchSize'],
    [0, -16, 1.5, 1e15],
  ],
  [
    ['training', 'lr'],
    [0, -0.01, 'fast', null],
  ],
];
const STRINGS: Array<[(string | number)[], Json[]]> = [
  [
    ['tasks', 'a', 'data'],
    ['nowhere', 42, null, ['pts']],
  ],
  [
    ['tasks', 'a', 'ops', 1],
    ['head_c', 7, null, { module: 'nope' }],
  ],
  [
    ['modules', 'trunk', 'kind'],
    ['conv', 1, null],
  ],
  [
    ['data', 'sq', 'kind'],
    ['spiral', 0, null],
  ],
  [
    ['training', 'optimizer', 'type'],
    ['adagrad', 3],
  ],
  [
    ['tasks', 'b', 'kind'],
    ['ranking', 5],
  ],
];
const REQUIRED: (string | number)[][] = [
  ['data'],
  ['tasks'],
  ['tasks', 'a', 'data'],
  ['modules', 'head_a', 'kind'],
  ['modules', 'head_a', 'units'],
  ['data', 'pts', 'kind'],
];
const OBJECTS: (string | number)[][] = [
  [],
  ['tasks', 'a'],
  ['modules', 'trunk'],
  ['training'],
  ['data', 'pts'],
  ['training', 'optimizer'],
];

const mutation = fc.oneof(
  fc
    .constantFrom(...NUMERIC)
    .chain(([path, bad]) => fc.constantFrom(...bad).map((v) => ({ kind: 'value', path, v }) as const)),
  fc
    .constantFrom(...STRINGS)
    .chain(([path, bad]) => fc.constantFrom(...bad).map((v) => ({ kind: 'value', path, v }) as const)),
  fc.constantFrom(...REQUIRED).map((path) => ({ kind: 'delete', path }) as const),
  fc
    .tuple(fc.constantFrom(...OBJECTS), fc.stringMatching(/^[a-z][a-zA-Z]{2,8}$/))
    .filter(
      ([path, key]) =>
        ![
          'kind',
          'type',
          'seed',
          'data',
          'tasks',
          'modules',
          'training',
          'model',
          'backend',
          'ops',
          'n',
          'lr',
          'units',
          'hidden',
          'epochs',
          'label',
          'input',
          'metrics',
          'weight',
          'radius',
          'splits',
          'field',
          'steps',
          'l2',
          'beta',
          'momentum',
          'nesterov',
          'epsilon',
          'rho',
          'centered',
          'outputSize',
          'activation',
          'dropout',
          'kernelInit',
          'useBias',
          'biasInit',
          'inputSize',
          'outputActivation',
          'evalEvery',
          'evalUnit',
          'taskWeights',
          'lrSchedule',
          'gradClipNorm',
          'checkpointMetric',
          'checkpointMode',
          'restoreBest',
          'earlyStopping',
          'batchSize',
          'scheduler',
          'validSplit',
          'checkpointDir',
          'beta1',
          'beta2',
          'weightDecay',
        ].includes(key) && path !== undefined,
    )
    .map(([path, key]) => ({ kind: 'extra', path, key }) as const),
  fc.constantFrom(
    { kind: 'replace', path: ['tasks'], v: {} },
    { kind: 'replace', path: ['data'], v: {} },
    { kind: 'replace', path: ['tasks', 'a', 'ops'], v: [] },
    { kind: 'replace', path: ['tasks', 'a', 'ops'], v: ['trunk', { module: 'head_a', inputs: ['head_a'] }] },
    { kind: 'replace', path: ['tasks', 'a', 'ops'], v: [{ module: 'head_a', inputs: ['trunk'] }, 'trunk'] },
    { kind: 'replace', path: ['tasks', 'a', 'ops'], v: ['trunk', 'trunk'] },
    { kind: 'replace', path: ['tasks', 'a', 'input'], v: 'xy' },
    { kind: 'replace', path: ['tasks', 'a', 'label'], v: 'nolabel' },
    { kind: 'replace', path: ['modules', 'head_a', 'inputSize'], v: 5 },
    { kind: 'replace', path: ['data', 'pts', 'splits'], v: { train: 0.5, test: 0.2 } },
    { kind: 'replace', path: ['training', 'taskWeights'], v: { c: 1 } },
    { kind: 'replace', path: ['training', 'checkpointMetric'], v: 'a/pts/valid/nope' },
    { kind: 'replace', path: ['modules', 'trunk', 'hidden'], v: [100000, 100000] },
    { kind: 'duplicate', path: ['tasks'] },
    { kind: 'duplicate', path: ['modules'] },
    { kind: 'proto', path: [] },
  ),
);

function render(
  m: fc.Arbitrary<unknown> extends never
    ? never
    : { kind: string; path: readonly (string | number)[]; v?: Json; key?: string },
  json: boolean,
): { text: string; ext: string } {
  const config = baseConfig();
  const path = [...m.path];
  if (m.kind === 'value' || m.kind === 'replace') setAt(config, path, m.v as Json);
  else if (m.kind === 'delete') setAt(config, path, undefined);
  else if (m.kind === 'extra') {
    const target = path.length === 0 ? config : (getParent(config, [...path, '_']) as { [k: string]: Json });
    target[m.key!] = 1;
  }
  let text = json ? JSON.stringify(config, null, 1) : stringify(config);
  if (m.kind === 'duplicate') {
    // A name declared twice: YAML and JSON parsers must refuse rather than keep the last one.
    text = json
      ? text.replace(`"${path[0]}": {`, `"${path[0]}": {\n  "${path[0] === 'tasks' ? 'a' : 'trunk'}": {},`)
      : text.replace(`${path[0]}:\n`, `${path[0]}:\n  ${path[0] === 'tasks' ? 'a' : 'trunk'}: {}\n`);
  }
  if (m.kind === 'proto')
    text = json ? text.replace('{', '{"__proto__": {"x": 1},') : `__proto__: { x: 1 }\n${text}`;
  return { text, ext: json ? '.json' : '.yaml' };
}

async function expectExit2(file: string, out: string, placeHint: RegExp): Promise<void> {
  const started = Date.now();
  const r = await Promise.race([
    cli('train', file, '--out', out),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`hang: ${file}`)), 20_000)),
  ]);
  expect(r.code, `${file}\n${r.err}\n${r.out}`).toBe(2);
  expect(r.err).toMatch(/^error \[[A-Z_]+\]: \S/);
  expect(r.err, r.err).toMatch(placeHint);
  expect(r.err).not.toContain('    at ');
  expect(isEmptyOrMissing(out)).toBe(true);
  expect(Date.now() - started).toBeLessThan(20_000);
}

describe('fuzzing: every malformed input exits 2, names the place, never crashes or hangs', () => {
  it('200 malformed configs (YAML and JSON)', async () => {
    const dir = tempDir('mtl-fuzz-');
    let i = 0;
    await fc.assert(
      fc.asyncProperty(mutation, fc.boolean(), async (m, json) => {
        const { text, ext } = render(m as never, json);
        const file = join(dir, `c${i}${ext}`);
        writeFileSync(file, text);
        await expectExit2(
          file,
          join(dir, `run${i++}`),
          new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}|${SECTIONS.source}`),
        );
      }),
      { numRuns: 200, seed: 20261121, endOnFailure: true },
    );
    expect(i).toBeGreaterThanOrEqual(200);
  });

  it('100 malformed data files (CSV and JSONL)', async () => {
    const dir = tempDir('mtl-fuzz-data-');
    const rows = (n: number) => Array.from({ length: n }, (_, r) => `${(r % 7) / 7},${(r % 5) / 5},${r % 2}`);
    const csvBad = fc.oneof(
      fc
        .integer({ min: 1, max: 30 })
        .map((r) => ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? `${l},9` : l))].join('\n')),
      fc
        .integer({ min: 1, max: 30 })
        .map((r) => ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? '0.5,1' : l))].join('\n')),
      fc
        .tuple(
          fc.integer({ min: 1, max: 30 }),
          fc.constantFrom('abc', '--', '1..2', '0x', 'one', '1e', '"1,5"'),
        )
        .map(([r, cell]) =>
          ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? `${cell},0.1,1` : l))].join('\n'),
        ),
      fc
        .tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999'))
        .map(([r, cell]) =>
          ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? `0.1,${cell},1` : l))].join('\n'),
        ),
      fc.constantFrom('', '\n', 'x1,x2,y', 'x1,x2,y\n'),
      fc
        .integer({ min: 1, max: 30 })
        .map((r) => ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? '0.1,0.2,5' : l))].join('\n')),
      fc
        .integer({ min: 1, max: 30 })
        .map((r) => ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? '0.1,0.2,-3' : l))].join('\n')),
      fc.constant(['x1,x3,y', ...rows(10)].join('\n')),
      fc.integer({ min: 100_000, max: 2_000_000 }).map((n) => `x1,x2,y\n${'7'.repeat(n)},0,1\n`),
      fc
        .integer({ min: 1, max: 30 })
        .map((r) => ['x1,x2,y', ...rows(40).map((l, j) => (j === r ? '"0.1,0.2,1' : l))].join('\n')),
      fc
        .uint8Array({ minLength: 1, maxLength: 400 })
        .map((b) => Buffer.concat([Buffer.from('x1,x2,y\n'), Buffer.from(b.map((x) => x | 0x80))])),
      fc.constant(Buffer.from('x1,x2,y\n0.1,0.2,1\n', 'utf16le')),
      fc.constant(Buffer.from('x1,x2,y\n0,5\u00e9,1\n', 'latin1')),
    );
    const jsonlBad = fc.oneof(
      fc.integer({ min: 0, max: 9 }).map((r) =>
        rows(10)
          .map((l, j) => (j === r ? '{"x1": 0.1, "x2":' : toJsonl(l)))
          .join('\n'),
      ),
      fc.integer({ min: 0, max: 9 }).map((r) =>
        rows(10)
          .map((l, j) => (j === r ? '{"x1": "a", "x2": 0, "y": 1}' : toJsonl(l)))
          .join('\n'),
      ),
      fc.integer({ min: 0, max: 9 }).map((r) =>
        rows(10)
          .map((l, j) => (j === r ? '[1, 2, 3]' : toJsonl(l)))
          .join('\n'),
      ),
      fc.integer({ min: 0, max: 9 }).map((r) =>
        rows(10)
          .map((l, j) => (j === r ? '{"x1": 0.1, "y": 1}' : toJsonl(l)))
          .join('\n'),
      ),
      fc.integer({ min: 0, max: 9 }).map((r) =>
        rows(10)
          .map((l, j) => (j === r ? '{"x1": 0.1, "x2": 0.2, "y": 7}' : toJsonl(l)))
          .join('\n'),
      ),
    );
    function toJsonl(line: string): string {
      const [x1, x2, y] = line.split(',').map(Number);
      return JSON.stringify({ x1, x2, y });
    }
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: csvBad, weight: 3 }, { arbitrary: jsonlBad, weight: 1 }),
        async (content) => {
          const isJsonl = typeof content === 'string' && content.startsWith('{') && !content.startsWith('x1');
          const dataFile = join(dir, `d${i}.${isJsonl ? 'jsonl' : 'csv'}`);
          writeFileSync(dataFile, content);
          const config = join(dir, `c${i}.yaml`);
          writeFileSync(
            config,
            stringify({
              data: {
                s: {
                  kind: isJsonl ? 'jsonl' : 'csv',
                  path: dataFile,
                  fields: { x: ['x1', 'x2'] },
                  labels: { y: { column: 'y', numClasses: 2 } },
                },
              },
              modules: { h: { kind: 'dense', inputSize: 2, units: 2 } },
              tasks: { t: { data: 's', label: 'y', ops: ['h'] } },
              training: { epochs: 1 },
            }),
          );
          await expectExit2(config, join(dir, `run${i++}`), new RegExp(`d${i - 1}\\.(csv|jsonl)`));
        },
      ),
      { numRuns: 100, seed: 11, endOnFailure: true },
    );
    expect(i).toBeGreaterThanOrEqual(100);
  });
});

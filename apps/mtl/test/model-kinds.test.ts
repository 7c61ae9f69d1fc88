import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMtlError } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import { isModelKind, loadConfig, type MtlConfig } from '../src/config/index.js';
import { cli, EXAMPLES, isEmptyOrMissing, tempDir, writeConfig } from './helpers.js';

/** A valid config of each model kind; each case adds one option the kind does not read. */
const BASES = {
  multitask: `
data:
  circle: { kind: circle, n: 100 }
modules:
  head: { kind: dense, inputSize: 2, units: 2 }
tasks:
  circle_task: { data: circle, ops: [head] }
model: { kind: multitask }
`,
  vmtl: `
data:
  l: { kind: logistic_tasks, tasks: 2, sizes: 50 }
tasks:
  task1: { data: l }
  task2: { data: l }
model: { kind: vmtl }
`,
  vae: `
data:
  d: { kind: vae_domains, tasks: 2, dim: 4, train: 16, test: 16 }
tasks:
  task1: { data: d }
  task2: { data: d }
model:
  kind: vae
  modules:
    enc: { kind: gaussianEncoder, inputSize: 4, latentSize: 2 }
    dec: { kind: vaeDecoder, outputSize: 4 }
  encoder: enc
  decoder: dec
`,
};

type Kind = keyof typeof BASES;

/** Loads BASES[kind] with `--set` overrides; returns the config or the CONFIG_INVALID message. */
function load(kind: Kind, set: string[]): MtlConfig | string {
  try {
    return loadConfig(writeConfig(BASES[kind]), set).config;
  } catch (e) {
    if (isMtlError(e, 'CONFIG_INVALID')) return e.message;
    throw e;
  }
}

const misplaced: Array<{ kind: Kind; category: string; set: string; expect: string }> = [
  // multitask reads every task, training and modules option; only other kinds' model options are foreign.
  {
    kind: 'multitask',
    category: 'model',
    set: 'model.klWeight=0.5',
    expect: 'model.klWeight: "klWeight" applies to model kind vmtl, not multitask',
  },
  {
    kind: 'multitask',
    category: 'model',
    set: 'model.modules={}',
    expect:
      'model.modules: "modules" applies to model kind vae, not multitask: a multitask model\'s modules are the top-level `modules`',
  },
  {
    kind: 'vmtl',
    category: 'task',
    set: 'tasks.task2.kind=binary',
    expect: 'tasks.task2.kind: "kind" applies to model kind multitask, not vmtl',
  },
  {
    kind: 'vmtl',
    category: 'training',
    set: 'training.scheduler=roundRobin',
    expect:
      'training.scheduler: "scheduler" applies to model kinds multitask and vae, not vmtl: a vmtl step always stacks one sub-batch of every task',
  },
  {
    kind: 'vmtl',
    category: 'model',
    set: 'model.perTask=[enc]',
    expect: 'model.perTask: "perTask" applies to model kind vae, not vmtl',
  },
  {
    kind: 'vae',
    category: 'task',
    set: 'tasks.task1.metrics=[accuracy]',
    expect: 'tasks.task1.metrics: "metrics" applies to model kind multitask, not vae',
  },
  {
    kind: 'vae',
    category: 'task',
    set: 'tasks.task2.ops=[enc, dec]',
    expect: 'tasks.task2.ops: "ops" applies to model kinds multitask and vmtl, not vae: every vae task runs',
  },
  {
    kind: 'vae',
    category: 'model',
    set: 'model.classifierSamples=3',
    expect: 'model.classifierSamples: "classifierSamples" applies to model kind vmtl, not vae',
  },
];

describe('config per model kind: an option the kind does not read is an error at its path', () => {
  it.each(misplaced.map((c) => [`${c.kind} ${c.category}: ${c.set}`, c] as const))('%s', (_name, c) => {
    expect(typeof load(c.kind, []), 'the base config is valid').toBe('object');
    const message = load(c.kind, [c.set]);
    expect(typeof message).toBe('string');
    expect(message).toContain(c.expect);
  });

  it('a vae config reads the top-level modules and every training option', () => {
    const config = load('vae', ['modules.extra={kind: dense, units: 2}', 'training.scheduler=sequential']);
    if (typeof config === 'string') throw new Error(config);
    if (!isModelKind(config, 'vae')) throw new Error(`a ${config.model.kind} config`);
    expect(config.modules.extra).toEqual({ kind: 'dense', units: 2 });
    expect(config.training.scheduler).toBe('sequential');
  });

  it('a truly unknown key is still "unknown key", and an unknown model kind names the kinds', () => {
    // `model` left out is a multitask model; a model mapping says its kind.
    expect(
      loadConfig(writeConfig(BASES.multitask.replace('model: { kind: multitask }\n', ''))).config.model,
    ).toEqual({
      kind: 'multitask',
    });
    expect(load('vmtl', ['model={prior: mixture}'])).toContain(
      'model.kind: give the model kind: multitask, vmtl, vae',
    );
    expect(load('vmtl', ['tasks.task1.opz=[a]'])).toContain('tasks.task1: unknown key "opz"');
    expect(load('vmtl', ['model.kind=moe'])).toContain(
      'model.kind: unknown model kind "moe" (known: multitask, vmtl, vae)',
    );
    expect(load('vmtl', ['model=vmtl'])).toContain(
      'model: expected a mapping {kind: multitask | vmtl | vae, ...}',
    );
  });

  it('each kind keeps its defaults, and only the options it reads', () => {
    const mt = load('multitask', []) as MtlConfig;
    const vmtl = load('vmtl', []) as MtlConfig;
    expect(mt.model).toEqual({ kind: 'multitask' });
    expect(mt.tasks.circle_task).toEqual({ data: 'circle', ops: ['head'], kind: 'multiclass', weight: 1 });
    expect(mt.training.scheduler).toBe('shuffled');
    expect(vmtl.tasks.task1).toEqual({ data: 'l', weight: 1 });
    expect('scheduler' in vmtl.training).toBe(false);
    expect((vmtl as { modules?: unknown }).modules).toEqual({});
    expect(vmtl.model).toMatchObject({ kind: 'vmtl', prior: 'mixture', klWeight: 1 });
  });

  it('--set overrides still reach every kind', () => {
    const vmtl = load('vmtl', ['model.klWeight=0.25', 'training.batchSize=8', 'tasks.task2.weight=2']);
    if (typeof vmtl === 'string') throw new Error(vmtl);
    expect(vmtl.model).toMatchObject({ kind: 'vmtl', klWeight: 0.25 });
    expect(vmtl.training.batchSize).toBe(8);
    expect(vmtl.tasks.task2!.weight).toBe(2);
    // Switching the kind with --set switches the schema: a multitask task kind becomes foreign.
    expect(load('multitask', ['model.kind=vmtl', 'tasks.circle_task.kind=binary'])).toContain(
      'tasks.circle_task.kind: "kind" applies',
    );
    const mt = load('multitask', ['tasks.circle_task.metrics=[accuracy, f1]', 'training.scheduler=mixed']);
    if (typeof mt === 'string') throw new Error(mt);
    expect(mt.tasks.circle_task!.metrics).toEqual(['accuracy', 'f1']);
    expect(mt.training.scheduler).toBe('mixed');
  });
});

describe('shipped examples', () => {
  const kinds: Record<string, string> = {
    'csv-tasks.yaml': 'multitask',
    'listings.yaml': 'multitask',
    'mt-vae.yaml': 'vae',
    'mmoe-synthetic.yaml': 'multitask',
    'multifashion.yaml': 'multitask',
    'shared-bottom-synthetic.yaml': 'multitask',
    'snorkel-basics-inv-circle.yaml': 'multitask',
    'snorkel-basics.yaml': 'multitask',
    'vmtl-logistic.yaml': 'vmtl',
    'vmtl-domains.yaml': 'vmtl',
    'domains-shared.yaml': 'multitask',
    'slice-aware.yaml': 'multitask',
    'vmtl-domains-conv.yaml': 'vmtl',
    'domains-shared-conv.yaml': 'multitask',
    'vmtl-domains-pretrained.yaml': 'vmtl',
    'domains-shared-pretrained.yaml': 'multitask',
  };

  it('every example validates against the schema of its model kind', () => {
    const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
    expect(examples.sort()).toEqual(Object.keys(kinds).sort());
    for (const file of examples) {
      expect(loadConfig(join(EXAMPLES, file)).config.model.kind, file).toBe(kinds[file]);
    }
  });
});

describe('mtl validate and mtl train refuse a misplaced option alike', () => {
  it('same message, exit 2, nothing written', async () => {
    const dir = tempDir();
    const file = writeConfig(`${BASES.vmtl}training: { epochs: 1, scheduler: sequential }\n`, 'c.yaml', dir);
    const out = join(dir, 'run');
    const v = await cli('validate', file);
    const t = await cli('train', file, '--out', out);
    expect(v.code).toBe(2);
    expect(t.code).toBe(2);
    expect(v.err).toBe(
      `error [CONFIG_INVALID]: ${file}: training.scheduler: "scheduler" applies to model kinds multitask and vae, not vmtl: a vmtl step always stacks one sub-batch of every task`,
    );
    expect(t.err).toBe(v.err);
    expect(isEmptyOrMissing(out)).toBe(true);
    expect(readdirSync(dir)).toEqual(['c.yaml']);
  });
});

describe('a run directory written before the split by model kind', () => {
  const fixture = new URL('../src/report/fixtures/vmtl/config.resolved.yaml', import.meta.url).pathname;

  it("still loads: the flat schema's defaults of options vmtl never read are dropped", () => {
    const text = readFileSync(fixture, 'utf8');
    expect(text).toContain('scheduler: shuffled');
    expect(text).toContain('kind: multiclass');
    const dir = tempDir();
    copyFileSync(fixture, join(dir, 'config.resolved.yaml'));
    const { config } = loadConfig(join(dir, 'config.resolved.yaml'));
    expect(config.model.kind).toBe('vmtl');
    expect('scheduler' in config.training).toBe(false);
    // Only in a run's resolved config, and only those exact defaults.
    const other = join(dir, 'other.yaml');
    copyFileSync(fixture, other);
    expect(() => loadConfig(other)).toThrow('"kind" applies to model kind multitask, not vmtl');
    writeFileSync(
      join(dir, 'config.resolved.yaml'),
      text.replace('scheduler: shuffled', 'scheduler: roundRobin'),
    );
    expect(() => loadConfig(join(dir, 'config.resolved.yaml'))).toThrow(
      'training.scheduler: "scheduler" applies to model kinds multitask and vae, not vmtl',
    );
  });
});

import { currentBackend, nativeStatus, selectBackend } from '@mtl/core';
import { SCHEDULER_NAMES } from '@mtl/data';
import { listMetrics } from '@mtl/scoring';
import { denseKind, registeredModuleTypes } from '@mtl/tasks';
import { AGGREGATOR_NAMES, trainerConfigSchema } from '@mtl/training';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { MtlInfo } from '../src/commands/info.js';
import { loopSchema, modelSchema, moduleSchema, vaeModelSchema } from '../src/config/schema.js';
import { HELP } from '../src/main.js';
import { cli } from './helpers.js';

type Json = { [key: string]: unknown };

/** The constant values of `key` over a union's members, read from the schema itself. */
function kindsOf(members: readonly z.ZodType[], key: string): string[] {
  return members.map((m) => (m as unknown as { shape: Record<string, { value: string }> }).shape[key]!.value);
}

/** The `type` values the trainer config accepts at `property` (its JSON Schema, as written). */
function trainerTypes(property: string): string[] {
  const json = z.toJSONSchema(trainerConfigSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const node = (json.properties as Record<string, Json>)[property]!;
  const members = (node.oneOf ?? node.anyOf) as Json[];
  return members.map((m) => (m.properties as Record<string, Json>).type!.const as string);
}

let info: MtlInfo;
let backendBefore: string | undefined;

beforeAll(async () => {
  backendBefore = currentBackend();
  const r = await cli('info', '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  info = JSON.parse(r.out) as MtlInfo;
});

describe('mtl info --json', () => {
  it('lists every module kind the config schema accepts, in modules and in VAE models, with options', () => {
    const inConfig = info.moduleKinds.filter((k) => !k.configPath!.startsWith('library only'));
    const expected = new Set([
      ...kindsOf(moduleSchema.options, 'kind'),
      ...kindsOf(vaeModelSchema.shape.modules.unwrap().valueType.options, 'kind'),
    ]);
    expect(new Set(inConfig.map((k) => k.name))).toEqual(expected);
    expect(inConfig).toHaveLength(expected.size);
    const dense = info.moduleKinds.find((k) => k.name === 'dense')!;
    expect(dense.configPath).toBe('modules.*.kind');
    expect(dense.registered).toBe(true);
    expect(dense.options!.find((o) => o.name === 'units')).toEqual({
      name: 'units',
      type: 'integer > 0 ≤ 1000000',
      required: true,
    });
    expect(dense.options!.find((o) => o.name === 'inputSize')!.required).toBe(false);
    // Composed from the module registry: the kind's own description and schema, seed left to the config.
    expect(dense.description).toBe(denseKind.description);
    expect(dense.options!.map((o) => o.name)).toEqual(
      Object.keys(denseKind.schema.shape).filter((k) => k !== 'seed'),
    );
    expect(info.moduleKinds.find((k) => k.name === 'vectorQuantizer')!.configPath).toMatch(/^model\.modules/);
    // Every kind the module registry rebuilds is listed too, configurable or not (tfLayers).
    for (const type of registeredModuleTypes()) {
      expect(info.moduleKinds.find((k) => k.name === type)?.registered, type).toBe(true);
    }
    expect(info.moduleKinds.find((k) => k.name === 'tfLayers')!.configPath).toMatch(/^library only/);
  });

  it('lists every metric of the registry with its direction and parameters', () => {
    const metrics = listMetrics();
    expect(info.metrics.map((m) => m.name)).toEqual(metrics.map((m) => m.name));
    for (const m of metrics) {
      const entry = info.metrics.find((e) => e.name === m.name)!;
      expect(entry.direction, m.name).toBe(m.higherIsBetter ? 'higher' : 'lower');
    }
    expect(info.metrics.find((m) => m.name === 'log_loss')!.direction).toBe('lower');
    expect(info.metrics.find((m) => m.name === 'ece')!.options).toEqual([
      { name: 'bins', type: 'integer ≥ 1', required: false, default: 10 },
    ]);
  });

  it('lists the schedulers, optimizers and LR schedules the training config accepts, with defaults', () => {
    expect(info.schedulers.map((s) => s.name)).toEqual(loopSchema.shape.scheduler.unwrap().options);
    expect(info.schedulers.map((s) => s.name)).toEqual([...SCHEDULER_NAMES]);
    expect(info.optimizers.map((o) => o.name)).toEqual(trainerTypes('optimizer'));
    expect(info.lrSchedules.map((o) => o.name)).toEqual(trainerTypes('lrSchedule'));
    const adamw = info.optimizers.find((o) => o.name === 'adamw')!;
    expect(adamw.options!.find((o) => o.name === 'weightDecay')).toMatchObject({
      default: 0.01,
      required: false,
    });
    const plateau = info.lrSchedules.find((o) => o.name === 'plateau')!;
    expect(plateau.options!.find((o) => o.name === 'metric')!.required).toBe(true);
    // The weighting registry of @mtl/training, default first; each with its options.
    expect(info.aggregators.map((a) => a.name)).toEqual([...AGGREGATOR_NAMES]);
    expect(info.aggregators.length).toBeGreaterThanOrEqual(20);
    expect(info.aggregators[0]).toMatchObject({
      name: 'weightedSum',
      configPath: 'training.weighting.method',
    });
    const famo = info.aggregators.find((a) => a.name === 'famo')!;
    expect(famo.description).toMatch(/^loss level/);
    expect(famo.options!.find((o) => o.name === 'lr')).toMatchObject({ default: 0.025, required: false });
  });

  it('lists the model kinds and data source kinds of the config union', () => {
    expect(info.modelKinds.map((m) => m.name)).toEqual(kindsOf(modelSchema.options, 'kind'));
    expect(info.dataSources.map((d) => d.name)).toEqual([
      'circle',
      'square',
      'inv_circle',
      'logistic_tasks',
      'csv',
      'jsonl',
      'multifashion',
      'fashion_domains',
      'mmoe_synthetic',
      'vae_domains',
    ]);
    expect(info.taskKinds.map((t) => t.name)).toContain('regression');
  });

  it('reports the backend selectBackend picked as the only active one, and the native kernels', async () => {
    const picked = await selectBackend();
    expect(picked).toBe(backendBefore);
    expect(info.backends.filter((b) => b.active).map((b) => b.name)).toEqual([picked]);
    expect(info.backends.find((b) => b.name === 'cpu')!.available).toBe(true);
    for (const b of info.backends) if (b.active) expect(b.available).toBe(true);
    const native = nativeStatus();
    expect(info.native).toEqual({
      registered: native.registered,
      active: native.active,
      detail: native.detail,
    });
    expect(info.versions['@mtl/core']).toBe('0.1.0');
    expect(info.versions['@tensorflow/tfjs']).toBe(tf.version_core);
  });
});

describe('mtl info', () => {
  it('prints aligned groups, one line per entry with its options', async () => {
    const before = tf.memory().numTensors;
    const r = await cli('info');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('module kinds (modules.*.kind):');
    expect(lines).toContain(
      '  dense            inputSize?, units, activation?, useBias?, kernelInit?, biasInit?',
    );
    expect(lines.find((l) => l.startsWith('  ece '))).toMatch(/^ {2}ece +lower is better; bins=10$/);
    expect(lines.find((l) => l.startsWith('  adamw '))).toBe(
      '  adamw    beta1=0.9, beta2=0.999, epsilon=1e-8, weightDecay=0.01',
    );
    for (const group of [
      'metrics',
      'batch schedulers',
      'optimizers',
      'LR schedules',
      'aggregators',
      'model kinds',
    ]) {
      expect(
        lines.some((l) => l.startsWith(`${group} (`)),
        group,
      ).toBe(true);
    }
    expect(lines.filter((l) => /^ {2}\w+ +active;/.test(l))).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('--backend cpu makes cpu the active backend', async () => {
    try {
      const r = await cli('info', '--json', '--backend', 'cpu');
      expect(r.code).toBe(0);
      const parsed = JSON.parse(r.out) as MtlInfo;
      expect(parsed.backends.find((b) => b.active)!.name).toBe('cpu');
    } finally {
      await selectBackend({ backend: backendBefore as 'wasm' });
    }
  });

  it('an unknown flag or a positional exits 2 naming it; --help lists info', async () => {
    const bad = await cli('info', '--bogus');
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/^error \[INVALID_ARGUMENT\]: .*--bogus/);
    const extra = await cli('info', 'modules');
    expect(extra.code).toBe(2);
    expect(extra.err).toContain('modules');
    expect(HELP).toContain('mtl info [--json]');
  });
});

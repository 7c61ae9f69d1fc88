import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configReference, renderConfigReference } from './reference.js';
import { MODEL_KINDS } from './schema.js';

describe('the config reference (apps/mtl/CONFIG.md)', () => {
  it('is committed exactly as generated from the schemas (else: npm run docs:config)', () => {
    const committed = readFileSync(new URL('../../CONFIG.md', import.meta.url), 'utf8');
    expect(committed, 'apps/mtl/CONFIG.md is out of date: run `npm run docs:config`').toBe(
      renderConfigReference(),
    );
  });

  it('lists every option with its type, allowed values and default', () => {
    const byPath = new Map(configReference().map((o) => [o.path, o]));
    expect(byPath.get('data.*[csv].delimiter')).toMatchObject({ type: 'one character', required: false });
    expect(byPath.get('data.*[csv].delimiter')!.description).toContain('default ","');
    expect(byPath.get('training.optimizer[adam].beta1')).toMatchObject({
      type: 'number ≥ 0, < 1',
      default: '0.9',
    });
    expect(byPath.get('training.scheduler')).toMatchObject({
      type: '"shuffled" | "sequential" | "roundRobin" | "mixed"',
      default: '"shuffled"',
    });
    expect(byPath.get('tasks.*.data')).toMatchObject({ type: 'name', required: true });
    expect(byPath.get('model[vae].modules.*[dense]')?.sameAs).toBe('modules.*[dense]');
    for (const option of byPath.values()) expect(option.description, option.path).not.toBe('');
  });

  it('says which model kinds read each option (another kind refuses it)', () => {
    const byPath = new Map(configReference().map((o) => [o.path, o.modelKinds]));
    expect(byPath.get('tasks.*.ops')).toEqual(['multitask', 'vmtl']);
    expect(byPath.get('tasks.*.metrics[].name')).toEqual(['multitask']);
    expect(byPath.get('tasks.*.weight')).toEqual(['multitask', 'vmtl', 'vae']);
    expect(byPath.get('training.scheduler')).toEqual(['multitask', 'vae']);
    expect(byPath.get('training.batchSize')).toEqual(['multitask', 'vmtl', 'vae']);
    expect(byPath.get('modules.*[dense].units')).toEqual(['multitask', 'vmtl', 'vae']);
    expect(byPath.get('model[vmtl].klWeight')).toEqual(['vmtl']);
    expect(byPath.get('model')).toEqual([...MODEL_KINDS]);
    expect(renderConfigReference()).toContain(
      '| `training.scheduler` | "shuffled" \\| "sequential" \\| "roundRobin" \\| "mixed" | `"shuffled"` | multitask, vae |',
    );
  });

  it('fails naming an option of a model kind that the flat reference schema lacks', () => {
    const kinds = {
      a: z.strictObject({ x: z.number() }),
      b: z.strictObject({ x: z.number(), y: z.number() }),
    };
    expect(() => configReference(z.strictObject({ x: z.number() }), { x: 'X.' }, kinds)).toThrow(
      'the reference schema lacks the config option "y" (model kind b)',
    );
    const flat = z.strictObject({ x: z.number(), y: z.number() });
    expect(configReference(flat, { x: 'X.', y: 'Y.' }, kinds).map((o) => o.modelKinds)).toEqual([
      ['a', 'b'],
      ['b'],
    ]);
  });

  const schema = z.strictObject({
    a: z.number().int().min(1).default(3),
    b: z.strictObject({ c: z.string().meta({ description: 'from the schema' }), d: z.boolean() }),
    e: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('x'), n: z.number() }),
      z.strictObject({ kind: z.literal('y'), n: z.number(), m: z.number() }),
    ]),
  });
  const complete = {
    a: 'A.',
    b: 'B.',
    'b.d': 'D.',
    e: 'E.',
    'e[x]': 'X.',
    'e[y]': 'Y.',
    'e[*].n': 'N in every variant.',
    'e[y].m': 'M.',
  };

  it('takes descriptions from the map (exact or [*] keys) or from the schema itself', () => {
    const options = configReference(schema, complete);
    expect(options.map((o) => [o.path, o.description])).toEqual([
      ['a', 'A.'],
      ['b', 'B.'],
      ['b.c', 'from the schema'],
      ['b.d', 'D.'],
      ['e', 'E.'],
      ['e[x]', 'X.'],
      ['e[x].n', 'N in every variant.'],
      ['e[y]', 'Y.'],
      ['e[y].n', 'N in every variant.'],
      ['e[y].m', 'M.'],
    ]);
    expect(options[0]).toMatchObject({ type: 'integer ≥ 1', default: '3', required: false });
  });

  it('fails naming an option without a description and a description of no option', () => {
    const { 'e[y].m': _, ...missing } = complete;
    expect(() => configReference(schema, missing)).toThrow(
      'config option "e[y].m" has no description (add it to apps/mtl/src/config/descriptions.ts)',
    );
    expect(() => configReference(schema, { ...complete, 'b.gone': 'G.', 'e[*].z': 'Z.' })).toThrow(
      'description "b.gone" names no config option (remove or rename it)\ndescription "e[*].z" names no config option',
    );
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CONTRACTS = ['Batch', 'StepBatches', 'StepContext', 'LossOutput', 'BatchSource', 'Trainable'];
const HOME = 'packages/core/src/contracts.ts';
// This file quotes declarations in its own examples.
const SELF = 'packages/core/src/contracts.test.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'fixtures' ? [] : sourceFiles(path);
    return /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** `interface X` / `type X =` / `type X<B> =` declarations of the contract names in one source text. */
function contractDeclarations(text: string): string[] {
  const found: string[] = [];
  const re = new RegExp(
    `\\b(?:interface|type)\\s+(${CONTRACTS.join('|')})\\b\\s*(?:<[^>{}=]*>)?\\s*[={]`,
    'g',
  );
  for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

describe('the contract types are declared once, in @mtl/core', () => {
  it('finds declarations and ignores re-exports and uses', () => {
    expect(contractDeclarations('export interface StepContext {\n step: number }')).toEqual(['StepContext']);
    expect(contractDeclarations('interface Trainable<B> { loss(b: B): LossOutput }')).toEqual(['Trainable']);
    expect(contractDeclarations('export type StepBatches = Batch[];')).toEqual(['StepBatches']);
    expect(contractDeclarations("export type { Batch, StepBatches } from '@mtl/core';")).toEqual([]);
    expect(contractDeclarations('export type VaeStepContext = StepContext;')).toEqual([]);
    expect(contractDeclarations('class X implements BatchSource<StepBatches> {}')).toEqual([]);
  });

  it('declares every contract in contracts.ts and nowhere else under packages/*/src or apps/*/src', () => {
    const where = new Map<string, string[]>();
    for (const top of ['packages', 'apps']) {
      for (const pkg of readdirSync(join(ROOT, top), { withFileTypes: true })) {
        if (!pkg.isDirectory()) continue;
        const src = join(ROOT, top, pkg.name, 'src');
        let files: string[];
        try {
          files = sourceFiles(src);
        } catch {
          continue;
        }
        for (const file of files) {
          if (relative(ROOT, file).split('\\').join('/') === SELF) continue;
          for (const name of contractDeclarations(readFileSync(file, 'utf8'))) {
            where.set(name, [...(where.get(name) ?? []), relative(ROOT, file).split('\\').join('/')]);
          }
        }
      }
    }
    expect(Object.fromEntries(where)).toEqual(Object.fromEntries(CONTRACTS.map((n) => [n, [HOME]])));
  });
});

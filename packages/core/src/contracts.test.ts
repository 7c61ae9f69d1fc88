// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the scans quote source lines that contain templates
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

// Every TypeScript source file under packages/<name>/src and apps/<name>/src, repo-relative with '/'.
function allSources(): string[] {
  const out: string[] = [];
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
      out.push(...files.map((f) => relative(ROOT, f).split('\\').join('/')));
    }
  }
  return out;
}

// Score keys built or taken apart by hand instead of by scoreKey/modelScoreKey/parseScoreKey:
// a template ending in `.../${split}/<metric>`, an interpolation followed by `/train/`, `/valid/` or
// `/test/`, a quoted 'model/all/<split>/<metric>', or a split on '/'.
const HAND_BUILT_KEY = [
  /\/\$\{[^}]*\bsplit\}\/(?:\$\{[^}]+\}|\w+)`/,
  /\$\{[^}]+\}\/(?:train|valid|test)\/[\w$]/,
  /['"]model\/all\/\w+\/\w+['"]/,
  /\.split\(\s*['"]\/['"]\s*\)/,
];
const SCORE_KEY_HOME = 'packages/core/src/score-key.ts';

function handBuiltKeys(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/)/.test(line) && HAND_BUILT_KEY.some((re) => re.test(line)))
    .map((line) => line.trim());
}

describe('score keys are built and parsed only by scoreKey, modelScoreKey and parseScoreKey', () => {
  it('recognises the hand-built keys this scan was written against', () => {
    const old = [
      'out[`${task.name}/${task.dataset}/${g.split}/accuracy`] = c / g.n;',
      "return part.includes('/') ? `${part}/train/loss` : `${part}/all/train/loss`;",
      '.map((r) => r.scores?.[`${row}/${split}/${metric}`])',
      "out['model/all/train/loss'] = loss;",
      "const [task] = td.split('/');",
    ];
    for (const line of old) expect(handBuiltKeys(line)).toEqual([line]);
    const fine = [
      'const key = `loader/${this.dataset.name}/${this.dataset.split}/epoch${epoch}/cycle${cycle}`;',
      "out[scoreKey(task.name, task.dataset, g.split, 'accuracy')] = c / g.n;",
      ' * `model/all/train/loss` = Σ weight·part',
      "'model/all/<split>/loss is the objective'",
    ];
    for (const line of fine) expect(handBuiltKeys(line)).toEqual([]);
  });

  it('finds none in non-test sources outside core/src/score-key.ts', () => {
    const found: string[] = [];
    for (const file of allSources()) {
      if (file === SCORE_KEY_HOME || /\.test\.ts$|test-utils\.ts$/.test(file)) continue;
      for (const line of handBuiltKeys(readFileSync(join(ROOT, file), 'utf8')))
        found.push(`${file}: ${line}`);
    }
    expect(found).toEqual([]);
  });
});

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

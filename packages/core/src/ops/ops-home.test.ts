// The ops have one home: a custom gradient written anywhere else, or a kernel looked up outside the
// capability registry, fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(path);
    return /\.ts$/.test(e.name) && !/\.(test|d)\.ts$/.test(e.name) ? [path] : [];
  });
}

function libraryFiles(): string[] {
  const out: string[] = [];
  for (const top of ['packages', 'apps']) {
    for (const pkg of readdirSync(join(ROOT, top), { withFileTypes: true })) {
      if (!pkg.isDirectory()) continue;
      try {
        out.push(
          ...sources(join(ROOT, top, pkg.name, 'src')).map((f) => relative(ROOT, f).split('\\').join('/')),
        );
      } catch {
        // a package without src/
      }
    }
  }
  return out;
}

function filesMatching(re: RegExp): string[] {
  return libraryFiles().filter((f) => re.test(readFileSync(join(ROOT, f), 'utf8')));
}

describe('the ops live in packages/core/src/ops', () => {
  it('every tf.customGrad is there', () => {
    const found = filesMatching(/\bcustomGrad\(/);
    expect(found.length).toBeGreaterThan(3);
    expect(found.filter((f) => !f.startsWith('packages/core/src/ops/'))).toEqual([]);
  });

  it('kernels are looked up only by the capability registry (and registered only by @mtl/native)', () => {
    expect(filesMatching(/\bgetKernel\(/)).toEqual([
      'packages/core/src/ops/capabilities.ts',
      'packages/native/src/kernels.ts',
    ]);
  });
});

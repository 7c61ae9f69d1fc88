// @mtl/scoring must run where tfjs is not installed: no source file may import it, directly or
// through the tfjs-loading entry of @mtl/core.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('no tfjs', () => {
  it('imports only @mtl/core/base and relative files', () => {
    const files = sources(new URL('.', import.meta.url).pathname);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const specifiers = [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const s of specifiers)
        expect([file, s.startsWith('.') || s === '@mtl/core/base']).toEqual([file, true]);
    }
  });
});

// Every package's main entry must run in a browser: bundled by esbuild for `platform: 'browser'`
// with no Node built-in marked external, any `node:` import (or bare `fs`, `crypto`...) reachable
// from `src/index.ts` fails the build. Node-only code lives behind the `/node` subpath entries.
import { existsSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Every folder under packages/ (checked below), @mtl/native included: in a browser its addon is
// simply unavailable (installNative reports why), as where it is not built.
const PACKAGES = ['core', 'data', 'scoring', 'tasks', 'training', 'variational', 'vae', 'native'] as const;
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

async function bundle(pkg: string): Promise<{ errors: Message[]; metafile?: Metafile }> {
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [`packages/${pkg}/src/index.ts`],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      conditions: ['source'],
      logLevel: 'silent',
    });
    return { errors: result.errors, metafile: result.metafile };
  } catch (e) {
    return { errors: (e as { errors?: Message[] }).errors ?? [{ text: String(e) } as Message] };
  }
}

describe('main entries bundle for a browser', () => {
  it('covers every package', () => {
    const folders = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'package.json')))
      .map((d) => d.name);
    expect([...PACKAGES].sort()).toEqual(folders.sort());
  });

  for (const pkg of PACKAGES) {
    it(`@mtl/${pkg}`, { timeout: 120_000 }, async () => {
      const { errors, metafile } = await bundle(pkg);
      expect(errors.map((m) => `${m.location?.file ?? ''}: ${m.text}`)).toEqual([]);
      const inputs = Object.keys(metafile!.inputs);
      expect(inputs.filter((p) => NODE_BUILTINS.has(p) || p.startsWith('node:'))).toEqual([]);
      const imports = Object.values(metafile!.outputs).flatMap((o) => o.imports.map((i) => i.path));
      expect(imports.filter((p) => NODE_BUILTINS.has(p) || p.startsWith('node:'))).toEqual([]);
      // Our own sources are in the bundle (the check above is not vacuous).
      expect(inputs).toContain(`packages/${pkg}/src/index.ts`);
      if (pkg === 'scoring') expect(inputs.filter((p) => p.includes('@tensorflow'))).toEqual([]);
      else expect(inputs.some((p) => p.includes('@tensorflow/tfjs-core'))).toBe(true);
    });
  }
});

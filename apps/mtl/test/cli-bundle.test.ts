// The CLI bundled into one file (tools/bundle-cli.mjs, what bin/mtl.js runs when it is fresh) must
// behave as dist/main.js: same registries, backends and native kernels (the bundle shares core's
// native state with the separately loaded @mtl/native), and the same numbers from a training run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';
import { bundleIsFresh, staleProjects } from '../bin/built.mjs';

const app = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = join(app, 'tsconfig.build.json');
const bundle = join(app, 'dist', 'bundle', 'mtl.mjs');
const built = join(app, 'dist', 'main.js');
// Built by `npm ci` (tools/prepare.mjs); after a source edit without a build there is nothing to compare.
const fresh = staleProjects(tsconfig).length === 0 && bundleIsFresh(bundle, tsconfig);

/** Runs `run(args)` of one entry point in a fresh Node process; its stdout. */
function runEntry(entry: string, args: string[]): string {
  const code = `const m = await import(${JSON.stringify(pathToFileURL(entry).href)}); process.exitCode = await m.run(${JSON.stringify(args)});`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: app,
    encoding: 'utf8',
  });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout;
}

it.skipIf(!fresh)('the bundled CLI reports what dist/main.js reports and trains to the same scores', () => {
  const info = (entry: string) => {
    const all = JSON.parse(runEntry(entry, ['info', '--json'])) as Record<string, unknown>;
    return { ...all, versions: undefined };
  };
  const fromBundle = info(bundle);
  expect(fromBundle).toEqual(info(built));
  // Native kernels, when built, are seen as active through the bundle too.
  expect(JSON.stringify(fromBundle)).toMatch(/"active":true/);

  const dir = mkdtempSync(join(tmpdir(), 'mtl-bundle-'));
  try {
    const config = join(app, 'examples', 'snorkel-basics.yaml');
    const scores = (entry: string, out: string) => {
      runEntry(entry, ['train', config, '--out', join(dir, out), '--quiet', '--set', 'training.epochs=1']);
      return readFileSync(join(dir, out, 'scores.json'), 'utf8');
    };
    const a = scores(bundle, 'bundle');
    expect(a).toContain('circle_task/circleDataset/test/accuracy');
    expect(a).toBe(scores(built, 'dist'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// bin/mtl.js runs dist/ only when every project it uses is built from today's sources.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildProjects, bundleIsFresh, staleProjects } from '../bin/built.mjs';

function project(root: string, name: string, references: string[] = []): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src', 'fixtures'), { recursive: true });
  mkdirSync(join(dir, 'dist'), { recursive: true });
  const tsconfig = join(dir, 'tsconfig.build.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: { outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
      include: ['src'],
      exclude: ['src/**/*.test.ts', 'src/**/fixtures/**'],
      references: references.map((r) => ({ path: `../${r}/tsconfig.build.json` })),
    }),
  );
  for (const file of ['src/index.ts', 'src/index.test.ts', 'src/fixtures/data.ts', 'dist/.tsbuildinfo']) {
    writeFileSync(join(dir, file), '');
  }
  return dir;
}

function setTime(file: string, seconds: number): void {
  utimesSync(file, seconds, seconds);
}

it('a project is stale when a compiled source is newer than its build stamp, not a test or fixture', () => {
  const root = mkdtempSync(join(tmpdir(), 'mtl-built-'));
  const core = project(root, 'core');
  const app = project(root, 'app', ['core']);
  for (const dir of [core, app]) {
    for (const file of ['tsconfig.build.json', 'src/index.ts', 'src/index.test.ts', 'src/fixtures/data.ts']) {
      setTime(join(dir, file), 1000);
    }
    setTime(join(dir, 'dist/.tsbuildinfo'), 2000);
  }
  const appConfig = join(app, 'tsconfig.build.json');
  expect(buildProjects(appConfig)).toEqual([appConfig, join(core, 'tsconfig.build.json')]);
  expect(staleProjects(appConfig)).toEqual([]);

  setTime(join(core, 'src/index.test.ts'), 3000);
  setTime(join(core, 'src/fixtures/data.ts'), 3000);
  expect(staleProjects(appConfig)).toEqual([]);

  setTime(join(core, 'src/index.ts'), 3000); // a referenced project's source changed
  expect(staleProjects(appConfig)).toEqual([join(core, 'tsconfig.build.json')]);
  setTime(join(core, 'dist/.tsbuildinfo'), 4000); // tsc -b rebuilt it
  expect(staleProjects(appConfig)).toEqual([]);

  writeFileSync(join(app, 'src', 'new-file.ts'), ''); // now: newer than everything
  expect(staleProjects(appConfig)).toEqual([appConfig]);
});

it('the bundle is used only when no project was rebuilt after it', () => {
  const root = mkdtempSync(join(tmpdir(), 'mtl-built-'));
  const core = project(root, 'core');
  const app = project(root, 'app', ['core']);
  const appConfig = join(app, 'tsconfig.build.json');
  const bundle = join(app, 'dist', 'bundle.mjs');
  expect(bundleIsFresh(bundle, appConfig)).toBe(false); // not made yet
  writeFileSync(bundle, '');
  setTime(join(core, 'dist/.tsbuildinfo'), 2000);
  setTime(join(app, 'dist/.tsbuildinfo'), 2000);
  setTime(bundle, 2500);
  expect(bundleIsFresh(bundle, appConfig)).toBe(true);
  setTime(join(core, 'dist/.tsbuildinfo'), 3000); // a referenced project rebuilt after the bundle
  expect(bundleIsFresh(bundle, appConfig)).toBe(false);
  setTime(bundle, 3000);
  expect(bundleIsFresh(bundle, appConfig)).toBe(true);
});

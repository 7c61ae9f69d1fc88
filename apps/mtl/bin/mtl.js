#!/usr/bin/env node
// Runs the built JavaScript (dist/, made by `npm ci` through the root `prepare` script or by
// `npm run build`) when it is at least as new as every source of the CLI and of the packages it
// uses: transpiling the TypeScript at every start costs seconds. Inside the workspace, with a
// source edited since the last build, it runs the sources through tsx instead, so an edit takes
// effect without a build. A published package has no sources and always runs dist/. Of the
// built JavaScript it prefers dist/bundle/mtl.mjs, the whole CLI in one file (tools/bundle-cli.mjs),
// when that is as new as the build (MTL_BUNDLE=0: dist/main.js).
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

// Start-up marks (ms since process start, with the CPU time so far) read by tools/bench/startup.ts.
const mark = (name) => {
  const cpu = process.cpuUsage();
  performance.mark(`mtl:${name}`, { detail: { cpuMicros: cpu.user + cpu.system } });
};
mark('bin');

const source = new URL('../src/main.ts', import.meta.url);
const built = new URL('../dist/main.js', import.meta.url);
// The same, bundled into one file by tools/bundle-cli.mjs (start-up: about half the CPU time).
const bundle = new URL('../dist/bundle/mtl.mjs', import.meta.url);

/** Which built JavaScript to run: the bundle, dist/main.js, or none (run the sources). */
async function whichBuilt() {
  const useBundle = process.env.MTL_BUNDLE !== '0' && existsSync(bundle);
  if (!existsSync(source)) return useBundle ? bundle : built;
  if (!existsSync(built) || process.env.MTL_FROM_SOURCE === '1') return undefined;
  const { bundleIsFresh, staleProjects } = await import('./built.mjs');
  const tsconfig = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url));
  if (staleProjects(tsconfig).length > 0) return undefined;
  return useBundle && bundleIsFresh(fileURLToPath(bundle), tsconfig) ? bundle : built;
}

let main;
const run = await whichBuilt();
if (run !== undefined) {
  main = await import(run.href);
} else {
  register('./source-condition.mjs', import.meta.url);
  const tsx = await import('tsx/esm/api');
  tsx.register();
  main = await import(source.href);
}
mark('imported');
process.exitCode = await main.run(process.argv.slice(2));

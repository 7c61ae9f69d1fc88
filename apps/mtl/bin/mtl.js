#!/usr/bin/env node
// Runs the built JavaScript (dist/, made by `npm ci` through the root `prepare` script or by
// `npm run build`) when it is at least as new as every source of the CLI and of the packages it
// uses: transpiling the TypeScript at every start costs seconds. Inside the workspace, with a
// source edited since the last build, it runs the sources through tsx instead, so an edit takes
// effect without a build. A published package has no sources and always runs dist/.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/main.ts', import.meta.url);
const built = new URL('../dist/main.js', import.meta.url);

async function useBuilt() {
  if (!existsSync(source)) return true;
  if (!existsSync(built) || process.env.MTL_FROM_SOURCE === '1') return false;
  const { staleProjects } = await import('./built.mjs');
  return staleProjects(fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))).length === 0;
}

let main;
if (await useBuilt()) {
  main = await import(built.href);
} else {
  register('./source-condition.mjs', import.meta.url);
  const tsx = await import('tsx/esm/api');
  tsx.register();
  main = await import(source.href);
}
process.exitCode = await main.run(process.argv.slice(2));

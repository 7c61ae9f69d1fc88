#!/usr/bin/env node
// In the workspace (sources present) the CLI runs its TypeScript directly through tsx, so
// `npx mtl` works right after `npm ci` with no build step; a published package runs dist/.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const source = new URL('../src/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  register('./source-condition.mjs', import.meta.url);
  const tsx = await import('tsx/esm/api');
  tsx.register();
  main = await import(source.href);
} else {
  main = await import(new URL('../dist/main.js', import.meta.url).href);
}
process.exitCode = await main.run(process.argv.slice(2));

// The root `prepare` script, which npm runs at the end of `npm ci` and `npm install`: builds
// every package's dist/ so that a plain script anywhere in the repository (`npx tsx script.ts`,
// `node script.mjs`) can import any @mtl package, and `mtl` starts from JavaScript. One tsc -b
// over every project (incremental: a second run only checks time stamps).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  // `npm ci --omit=dev` has no TypeScript: the packages then need a build from elsewhere.
  console.log('prepare: TypeScript is not installed (dev dependencies omitted); skipping the build');
  process.exit(0);
}
const projects = ['packages', 'apps'].flatMap((group) =>
  existsSync(join(root, group))
    ? readdirSync(join(root, group))
        .map((name) => join(group, name, 'tsconfig.build.json'))
        .filter((file) => existsSync(join(root, file)))
    : [],
);
const started = Date.now();
const result = spawnSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('prepare: the build failed (see above); fix it and run `npm run build`');
  process.exit(result.status ?? 1);
}
console.log(`prepare: built ${projects.length} projects in ${((Date.now() - started) / 1000).toFixed(1)} s`);
// The CLI in one file (bin/mtl.js runs it when fresh: half the start-up CPU); optional.
if (existsSync(join(root, 'apps', 'mtl', 'dist', 'main.js'))) {
  const bundled = spawnSync(process.execPath, [join(root, 'tools', 'bundle-cli.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (bundled.status !== 0)
    console.log('prepare: bundling the CLI failed (see above); mtl runs apps/mtl/dist/main.js');
}

// Bundles the built CLI (apps/mtl/dist/main.js and every @mtl package and npm dependency it
// imports) into one ES module, apps/mtl/dist/bundle/mtl.mjs, which bin/mtl.js runs when it is as
// new as every project's build. Why: Node 20 imports a CommonJS package from an ES module by first
// scanning its source for export names, and tfjs's bundles (5.5 MB over tfjs, -core, -layers,
// -converter, -data and two backends) cost about 0.5-1 s of CPU in that scan at every start, more
// than everything else before the first training step; 350 separate ES modules add their own
// loading cost. In the bundle tfjs is loaded with `require` (one instance, the one every other
// importer gets too), and the rest is one file. Run by tools/prepare.mjs (npm ci) and by the app's
// `build` script; needs esbuild (a dev dependency): without it the CLI runs dist/main.js as before.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = join(root, 'apps', 'mtl');
const entry = join(app, 'dist', 'main.js');
// Two levels under the app, like dist/commands/*.js: the app's `new URL('../../package.json',
// import.meta.url)` (mtl info) reads the app's package.json from either.
const outfile = join(app, 'dist', 'bundle', 'mtl.mjs');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('bundle-cli: esbuild is not installed; mtl runs apps/mtl/dist/main.js');
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error('bundle-cli: apps/mtl/dist/main.js is missing (build first)');
  process.exit(1);
}

const coreDist = `${sep}packages${sep}core${sep}dist`;
/** tfjs through `require`; core's native state shared with the separately loaded @mtl/native. */
const plugin = {
  name: 'mtl-cli',
  setup(build) {
    build.onResolve({ filter: /^@tensorflow\// }, (args) => ({ path: args.path, namespace: 'tfjs-require' }));
    build.onLoad({ filter: /.*/, namespace: 'tfjs-require' }, (args) => ({
      // Not `require(...)`, which esbuild would resolve (back to this module).
      contents: `module.exports = __mtlRequire(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    // @mtl/native stays outside the bundle (optional, found at run time; it holds the addon's
    // path) and reports to '@mtl/core/native-state': the bundle must read that same module.
    build.onResolve({ filter: /^@mtl\/core\/native-state$/ }, () => ({
      path: '@mtl/core/native-state',
      external: true,
    }));
    build.onResolve({ filter: /^\.\/native\.js$/ }, (args) =>
      args.resolveDir.endsWith(coreDist) ? { path: '@mtl/core/native-state', external: true } : undefined,
    );
  },
};

mkdirSync(dirname(outfile), { recursive: true });
const started = Date.now();
await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Not sources: the packages' `source` export condition is for running TypeScript.
  conditions: [],
  external: ['@mtl/native'],
  plugins: [plugin],
  // The CommonJS code inside (tfjs, yaml) calls `require`: give the module one.
  banner: {
    js: "import { createRequire as __mtlCreateRequire } from 'node:module';\nconst require = __mtlCreateRequire(import.meta.url);\nconst __mtlRequire = require;",
  },
  logLevel: 'warning',
  legalComments: 'none',
});
console.log(
  `bundle-cli: wrote ${outfile.slice(root.length)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
);

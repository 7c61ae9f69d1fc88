import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(new URL(import.meta.url).pathname);
const shim = (file: string) => join(here, 'src/shims', file);
const require = createRequire(import.meta.url);

/**
 * tfjs-backend-wasm's .wasm files, emitted as `wasm/<file>`: the page tells the backend to fetch
 * them from its own origin (setWasmPaths), never from a CDN.
 */
function wasmFiles(): Plugin {
  return {
    name: 'mtl-wasm-files',
    generateBundle() {
      const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      for (const file of readdirSync(join(dist, 'dist')).filter((f) => f.endsWith('.wasm'))) {
        this.emitFile({
          type: 'asset',
          fileName: `wasm/${file}`,
          source: readFileSync(join(dist, 'dist', file)),
        });
      }
    },
  };
}

/**
 * The chart libraries `mtl report` inlines (vega, vega-lite, vega-embed), emitted as
 * `report/<file>` with their versions in `report/versions.json`: the page fetches them only to
 * make a report, never at first paint.
 */
function reportLibraries(): Plugin {
  const LIBRARIES = [
    { pkg: 'vega', file: 'vega.min.js' },
    { pkg: 'vega-lite', file: 'vega-lite.min.js' },
    { pkg: 'vega-embed', file: 'vega-embed.min.js' },
  ];
  return {
    name: 'mtl-report-libraries',
    generateBundle() {
      const fromApp = createRequire(join(here, '../mtl/package.json'));
      const versions: Record<string, string> = {};
      for (const { pkg, file } of LIBRARIES) {
        const build = dirname(fromApp.resolve(pkg));
        versions[pkg] = JSON.parse(readFileSync(join(build, '..', 'package.json'), 'utf8')).version;
        this.emitFile({ type: 'asset', fileName: `report/${file}`, source: readFileSync(join(build, file)) });
      }
      this.emitFile({ type: 'asset', fileName: 'report/versions.json', source: JSON.stringify(versions) });
    },
  };
}

export default defineConfig({
  base: './',
  resolve: {
    // The packages' TypeScript sources (as the tests run them), and the app's modules with their
    // file functions replaced: the page reads files through the browser.
    conditions: ['source', 'browser', 'module', 'import', 'default'],
    alias: [
      { find: /^node:fs$/, replacement: shim('node-fs.ts') },
      { find: /^node:path$/, replacement: shim('node-path.ts') },
      { find: /^node:module$/, replacement: shim('node-module.ts') },
      { find: /^@mtl\/(core|data|training)\/node$/, replacement: shim('mtl-node.ts') },
      // The same library's build without Node's Buffer (mtl predict writes its CSV with it).
      { find: /^csv-stringify\/sync$/, replacement: 'csv-stringify/browser/esm/sync' },
    ],
  },
  // The manifest (.vite/manifest.json) maps each module to its chunk: which chunk is loaded when
  // (tools/web-bundle-size.mjs, and the test that webgpu's is not fetched without a GPU).
  build: { target: 'es2022', chunkSizeWarningLimit: 4000, manifest: true },
  plugins: [wasmFiles(), reportLibraries()],
});

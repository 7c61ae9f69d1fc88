// The page's bundle budget: what each moment of the page loads, gzipped, from the build's
// manifest (dist/.vite/manifest.json). `npm run size -w apps/web` builds and prints the table the
// README shows; the browser test checks the first paint's budget on its own build.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

interface ManifestChunk {
  file: string;
  imports?: string[];
  dynamicImports?: string[];
  isEntry?: boolean;
}

/** One moment of the page and the files it fetches then (besides what was fetched before). */
export interface BundlePart {
  moment: string;
  files: { file: string; bytes: number; gzip: number }[];
  gzip: number;
}

/** The manifest key of the dynamic import whose key contains `needle`. */
function keyOf(manifest: Record<string, ManifestChunk>, needle: string): string {
  const key = Object.keys(manifest).find((k) => k.includes(needle));
  if (key === undefined) throw new Error(`no chunk for ${needle} in the manifest`);
  return key;
}

/**
 * Measures a built page (`dist`): the first paint (index.html, the entry and its static imports),
 * then what Validate/Train adds (the training code: tfjs, the packages, the app), the wasm backend
 * (its chunk and the SIMD `.wasm` a page without cross-origin isolation uses), the webgpu backend
 * (fetched only with a GPU adapter) and the report's chart libraries (fetched for a report only).
 * Sizes are gzip level 9 (zlib).
 * @example
 * const parts = measureBundle('apps/web/dist');
 * parts[0]!.gzip; // first paint, gzipped bytes
 */
export function measureBundle(dist: string): BundlePart[] {
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const seen = new Set<string>();
  const size = (file: string) => {
    const bytes = readFileSync(join(dist, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  /** The files of a chunk and its static imports, not fetched before. */
  const closure = (key: string): string[] => {
    const out: string[] = [];
    const visit = (k: string) => {
      const chunk = manifest[k]!;
      if (seen.has(chunk.file)) return;
      seen.add(chunk.file);
      out.push(chunk.file);
      for (const i of chunk.imports ?? []) visit(i);
    };
    visit(key);
    return out;
  };
  const part = (moment: string, files: string[]): BundlePart => {
    const sized = files.map(size);
    return { moment, files: sized, gzip: sized.reduce((a, f) => a + f.gzip, 0) };
  };
  const entry = Object.keys(manifest).find((k) => manifest[k]!.isEntry)!;
  return [
    part('first paint', ['index.html', ...closure(entry)]),
    part('on Validate / Train', closure(keyOf(manifest, 'src/run.ts'))),
    part('on Predict', closure(keyOf(manifest, 'src/predict.ts'))),
    part('wasm backend', [
      ...closure(keyOf(manifest, 'tfjs-backend-wasm/')),
      'wasm/tfjs-backend-wasm-simd.wasm',
    ]),
    part('webgpu backend (with a GPU adapter)', closure(keyOf(manifest, 'tfjs-backend-webgpu/'))),
    part('Download report', [
      ...closure(keyOf(manifest, 'src/report.ts')),
      'report/versions.json',
      'report/vega.min.js',
      'report/vega-lite.min.js',
      'report/vega-embed.min.js',
    ]),
  ];
}

/** The README's table. */
export function bundleTable(parts: readonly BundlePart[]): string {
  const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
  const rows = parts.map(
    (p) =>
      `| ${p.moment} | ${p.files.map((f) => `\`${f.file.replace(/-[\w-]{8}\.js$/, '-*.js')}\` ${kb(f.gzip)}`).join(', ')} | **${kb(p.gzip)}** |`,
  );
  return ['| loaded | files (gzip) | gzip |', '|---|---|---|', ...rows].join('\n');
}

if (process.argv[1]?.endsWith('bundle-size.ts')) {
  console.log(bundleTable(measureBundle(process.argv[2] ?? 'dist')));
}

// The chart libraries `mtl report` inlines, fetched from the page's own origin (`report/`, written
// by vite.config.ts) only when a report is made, and put where the report's code reads them.
import { pageFileExists, putPageFile } from './shims/page-files.js';

/** The libraries, as vite.config.ts emits them, in the report's load order. */
export const REPORT_LIBRARIES = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

/**
 * Fetches `report/<file>` and `report/versions.json` once and places each library at
 * `/vendor/<package>/build/<file>` beside a `package.json` with its version.
 * @example
 * await loadReportLibraries();
 */
export async function loadReportLibraries(): Promise<void> {
  if (REPORT_LIBRARIES.every(({ pkg, file }) => pageFileExists(`/vendor/${pkg}/build/${file}`))) return;
  const base = new URL('./report/', document.baseURI);
  const get = async (name: string) => {
    const response = await fetch(new URL(name, base));
    if (!response.ok) throw new Error(`cannot load ${name} for the report (${response.status})`);
    return response.text();
  };
  const versions = JSON.parse(await get('versions.json')) as Record<string, string>;
  await Promise.all(
    REPORT_LIBRARIES.map(async ({ pkg, file }) => {
      putPageFile(`/vendor/${pkg}/build/${file}`, await get(file));
      putPageFile(`/vendor/${pkg}/package.json`, JSON.stringify({ version: versions[pkg] ?? '' }));
    }),
  );
}

// node:module in a page: the report's chart libraries are found by package name (report/assets.ts).
// The page fetches their browser builds from its own origin and puts them at /vendor/<package>/build/
// (report-files.ts); this require resolves a package there, where assets.ts then reads them.
export function createRequire(_from: string): { resolve(pkg: string): string } {
  return { resolve: (pkg: string) => `/vendor/${pkg}/build/index.js` };
}
export default { createRequire };

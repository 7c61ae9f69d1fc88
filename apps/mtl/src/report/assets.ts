import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MtlError } from '@mtl/core';

/** The browser builds inlined into every report, in load order (vega-embed needs the other two). */
const LIBRARIES = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

export interface InlineScript {
  name: string;
  version: string;
  code: string;
}

let cached: InlineScript[] | undefined;

/**
 * `</script` would end the inline element early wherever it appears in the code (even inside a
 * string), so it is written as `<\/script`, which every JS context (string, template, regex,
 * comment) reads the same.
 */
export function escapeInlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

/**
 * The minified browser builds of vega, vega-lite and vega-embed, read from node_modules (each
 * package's main entry sits in its `build/` folder, beside the `.min.js`), escaped for inlining.
 * Read once per process.
 */
export function chartLibraries(): InlineScript[] {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  cached = LIBRARIES.map(({ pkg, file }) => {
    let path = '';
    try {
      const build = dirname(require.resolve(pkg));
      path = join(build, file);
      const code = readFileSync(path, 'utf8');
      const manifest = JSON.parse(readFileSync(join(build, '..', 'package.json'), 'utf8')) as {
        version?: string;
      };
      return { name: pkg, version: manifest.version ?? '', code: escapeInlineScript(code) };
    } catch (e) {
      throw new MtlError('FILE_NOT_FOUND', `cannot read the ${pkg} browser build (is ${pkg} installed?)`, {
        place: path || pkg,
        cause: e,
      });
    }
  });
  return cached;
}

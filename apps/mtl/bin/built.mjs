// Is the built JavaScript (dist/) of a TypeScript project and of every project it references
// newer than its sources? tsc -b rewrites dist/.tsbuildinfo whenever it (re)builds a project,
// so that file's time stamps the build. Used by bin/mtl.js (run dist when fresh, else the
// sources through tsx) and by the tests that run README examples against the built packages.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** tsconfig "exclude" globs (e.g. src/**\/*.test.ts, src/**\/fixtures/**) as one RegExp on relative paths. */
function globsToRegExp(globs) {
  if (globs.length === 0) return /^$/;
  const one = (glob) =>
    glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\/\*\*$/, '\0END')
      .replace(/\*\*\//g, '\0ANY')
      .replace(/\*/g, '[^/]*')
      .replace(/\0END/g, '(?:/.*)?')
      .replace(/\0ANY/g, '(?:.*/)?');
  return new RegExp(`^(?:${globs.map(one).join('|')})$`);
}

function newestInput(dir, excluded, root) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const rel = relative(root, path).split(sep).join('/');
    if (excluded.test(rel)) continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestInput(path, excluded, root));
    else if (/\.[cm]?tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The project (a tsconfig.build.json path) and every project it references, transitively.
 * @returns {string[]} absolute tsconfig paths
 */
export function buildProjects(tsconfig, seen = new Set()) {
  const file = resolve(tsconfig);
  if (seen.has(file)) return [];
  seen.add(file);
  const config = JSON.parse(readFileSync(file, 'utf8'));
  const out = [file];
  for (const ref of config.references ?? []) {
    const target = resolve(dirname(file), ref.path);
    out.push(...buildProjects(target.endsWith('.json') ? target : join(target, 'tsconfig.json'), seen));
  }
  return out;
}

/**
 * The projects among `tsconfig` and its references whose dist/ is missing or older than a source.
 * @returns {string[]} absolute tsconfig paths of stale projects (empty: everything is built)
 */
export function staleProjects(tsconfig) {
  return buildProjects(tsconfig).filter((file) => {
    const root = dirname(file);
    const config = JSON.parse(readFileSync(file, 'utf8'));
    const options = config.compilerOptions ?? {};
    const info = join(root, options.tsBuildInfoFile ?? join(options.outDir ?? 'dist', '.tsbuildinfo'));
    if (!existsSync(info)) return true;
    const excluded = globsToRegExp(config.exclude ?? []);
    let newest = statSync(file).mtimeMs;
    for (const include of config.include ?? ['src']) {
      const dir = join(root, include);
      if (existsSync(dir)) newest = Math.max(newest, newestInput(dir, excluded, root));
    }
    return statSync(info).mtimeMs < newest;
  });
}

/**
 * Whether a bundle of the built JavaScript (tools/bundle-cli.mjs) is at least as new as the build of
 * `tsconfig` and of every project it references: a project rebuilt since leaves it stale.
 * @returns {boolean}
 */
export function bundleIsFresh(bundle, tsconfig) {
  if (!existsSync(bundle)) return false;
  const made = statSync(bundle).mtimeMs;
  return buildProjects(tsconfig).every((file) => {
    const options = JSON.parse(readFileSync(file, 'utf8')).compilerOptions ?? {};
    const info = join(
      dirname(file),
      options.tsBuildInfoFile ?? join(options.outDir ?? 'dist', '.tsbuildinfo'),
    );
    return existsSync(info) && statSync(info).mtimeMs <= made;
  });
}

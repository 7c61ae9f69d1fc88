// The page's files: what the user chose (data CSVs, a run's config and model) placed at the paths
// the app's code reads, and what it writes (predictions). The app's node:fs and file readers are
// aliased to functions that read and write here (vite.config.ts), so a page runs the commands' own
// code on chosen files. Paths are POSIX and absolute ('/data/x.csv').
import { decodeArtifacts, encodeArtifacts, type IOHandler, MtlError } from '@mtl/core';
import { normalizePath } from './node-path.js';

const files = new Map<string, Uint8Array>();

/**
 * Puts a file at `path` (text or bytes), replacing what was there.
 * @example
 * putPageFile('/data/train.csv', 'x,y\n1,0\n');
 */
export function putPageFile(path: string, content: string | Uint8Array): void {
  files.set(normalizePath(path), typeof content === 'string' ? new TextEncoder().encode(content) : content);
}

/** The bytes at `path`, or undefined. */
export function pageFileBytes(path: string): Uint8Array | undefined {
  return files.get(normalizePath(path));
}

/** The text at `path`, or undefined. */
export function pageFileText(path: string): string | undefined {
  const bytes = pageFileBytes(path);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** True for a file, and for a folder that holds one. */
export function pageFileExists(path: string): boolean {
  const p = normalizePath(path);
  if (files.has(p)) return true;
  const prefix = p.endsWith('/') ? p : `${p}/`;
  for (const name of files.keys()) if (name.startsWith(prefix)) return true;
  return false;
}

/** Forgets every file under `dir` (a folder the page fills again). */
export function clearPageFiles(dir: string): void {
  const prefix = `${normalizePath(dir)}/`.replace(/\/+$/, '/');
  for (const name of [...files.keys()]) if (name.startsWith(prefix)) files.delete(name);
}

/**
 * The saved-format handler of a path (`/run/model/model.mtl`) in a page: the bytes of a chosen
 * model file, read with @mtl/core's checks; a save puts the bytes there.
 * @example
 * registerIOScheme('file', pageFileHandler);
 */
export function pageFileHandler(path: string): IOHandler {
  return {
    place: path,
    async save(artifacts) {
      putPageFile(path, encodeArtifacts(artifacts));
    },
    async load() {
      const bytes = pageFileBytes(path);
      if (bytes === undefined) throw new MtlError('FILE_NOT_FOUND', 'no such file', { place: path });
      return decodeArtifacts(bytes, path);
    },
  };
}

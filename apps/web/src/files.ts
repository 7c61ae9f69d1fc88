// Which of the chosen files are a config's data, and where the app reads them.
import { listNames, MtlError } from '@mtl/core';
import { dirname, resolve } from './shims/node-path.js';
import { putPageFile } from './shims/page-files.js';

/** A file the user chose: its name (no folder: a browser does not give it) and its text. */
export interface ChosenFile {
  name: string;
  text: string;
}

/** A data file a config reads: where (config path), the path the app reads, the name to choose. */
export interface NeededFile {
  place: string;
  path: string;
  name: string;
}

interface FileSource {
  kind: string;
  path?: string | undefined;
  files?: Record<string, string> | undefined;
}

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * The data files of a config's `csv` and `jsonl` sources (`path`, or `files` per split), resolved
 * against the config's own folder as `mtl train` resolves them.
 * @example
 * neededFiles({ data: { s: { kind: 'csv', path: 'data/s.csv' } } }, '/page.yaml');
 * // [{ place: 'data.s.path', path: '/data/s.csv', name: 's.csv' }]
 */
export function neededFiles(config: { data: Record<string, FileSource> }, configFile: string): NeededFile[] {
  const at = (p: string) => resolve(dirname(resolve(configFile)), p);
  const out: NeededFile[] = [];
  for (const [source, spec] of Object.entries(config.data)) {
    if (spec.kind !== 'csv' && spec.kind !== 'jsonl') continue;
    if (spec.path !== undefined)
      out.push({ place: `data.${source}.path`, path: at(spec.path), name: baseName(spec.path) });
    for (const [split, file] of Object.entries(spec.files ?? {}))
      out.push({ place: `data.${source}.files.${split}`, path: at(file), name: baseName(file) });
  }
  return out;
}

/**
 * Matches the chosen files to the config's data files by name and puts each where the app reads
 * it. A data file not chosen is FILE_NOT_FOUND at its config path; a chosen file the config does
 * not read is INVALID_ARGUMENT (a wrong pick, said before any training); two data paths with one
 * name are DUPLICATE_NAME (a browser gives names, not folders).
 * @example
 * placeDataFiles(config, '/page.yaml', [{ name: 's.csv', text }]);
 */
export function placeDataFiles(
  config: { data: Record<string, FileSource> },
  configFile: string,
  chosen: readonly ChosenFile[],
): NeededFile[] {
  const needed = neededFiles(config, configFile);
  const byName = new Map(chosen.map((f) => [f.name, f]));
  const pathOf = new Map<string, NeededFile>();
  for (const n of needed) {
    const other = pathOf.get(n.name);
    if (other !== undefined && other.path !== n.path) {
      throw new MtlError(
        'DUPLICATE_NAME',
        `"${n.path}" and "${other.path}" (${other.place}) have the same name "${n.name}": the page matches chosen files by name, rename one`,
        { place: n.place },
      );
    }
    pathOf.set(n.name, n);
    if (!byName.has(n.name)) {
      throw new MtlError(
        'FILE_NOT_FOUND',
        `the config reads "${n.name}", which is not among the chosen data files (chosen: ${listNames(byName.keys())})`,
        { place: n.place },
      );
    }
  }
  for (const f of chosen) {
    if (!pathOf.has(f.name)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `"${f.name}" is not a data file of this config (it reads: ${listNames(pathOf.keys())})`,
        { place: 'data files' },
      );
    }
  }
  for (const n of pathOf.values()) putPageFile(n.path, byName.get(n.name)!.text);
  return [...pathOf.values()];
}

import { MtlError } from './errors.js';
import type * as NodeIoModule from './node-io.js';

/**
 * The Node file helpers portable code may need at run time: `readFile` (node:fs/promises),
 * `join` (node:path) and {@link writeFileAtomic}.
 * @example
 * const io: NodeIo = await nodeIo('model.json');
 */
export type NodeIo = typeof NodeIoModule;

/**
 * Loads Node's file helpers for a method that reads or writes a path (`model.save(path)`, trainer
 * checkpoints). The import is by a computed name, so a browser bundle of a main entry leaves it out;
 * in a browser the call is `NOT_IMPLEMENTED` naming `place` (files on disk need Node).
 * @example
 * const { writeFileAtomic } = await nodeIo('model.json');
 * await writeFileAtomic('model.json', text);
 */
export async function nodeIo(place: string): Promise<NodeIo> {
  if (typeof process === 'undefined' || process.versions?.node === undefined) {
    throw new MtlError(
      'NOT_IMPLEMENTED',
      'files on disk need Node; in a browser, save and load through memory',
      {
        place,
      },
    );
  }
  // By package name, not a relative path: a relative computed specifier would resolve against the
  // importing package's sources in tests (vite), the name resolves through `exports` everywhere.
  const specifier = '@mtl/core/node-io';
  return (await import(/* @vite-ignore */ specifier)) as NodeIo;
}

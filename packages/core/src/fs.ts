import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseChecksummedJson } from './checksum.js';
import { MtlError } from './errors.js';

function tempName(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  }
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn one: the data
 * goes to a temporary file in the same folder, is flushed, and is renamed over `path`. Creates the
 * parent folder. A bare file name (no folder) works.
 * @example
 * await writeFileAtomic('scores.json', JSON.stringify(scores));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const abs = resolve(path);
  await mkdir(dirname(abs), { recursive: true });
  const tmp = tempName(abs);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, abs);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  syncDir(dirname(abs));
}

/** Synchronous twin of {@link writeFileAtomic}, for exit paths that cannot await. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const abs = resolve(path);
  const tmp = tempName(abs);
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, abs);
  syncDir(dirname(abs));
}

/** Reads a file written with {@link checksummedJson}: `FILE_NOT_FOUND`, `FILE_READ` or `CHECKPOINT_CORRUPT` on failure. */
export function readChecksummedJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new MtlError(missing ? 'FILE_NOT_FOUND' : 'FILE_READ', missing ? 'no such file' : String(e), {
      place: path,
      cause: e,
    });
  }
  return parseChecksummedJson(text, path);
}

import { readFile } from 'node:fs/promises';
import { MtlError } from './errors.js';
import { writeFileAtomic } from './fs.js';
import { decodeArtifacts, encodeArtifacts, type IOHandler, registerIOScheme } from './saved-format.js';

/**
 * `file://path` (or a bare path): one file holding the whole saved model or checkpoint (see
 * `encodeArtifacts` for its layout), written atomically (temporary file + rename; the folder is
 * created). A missing file is `FILE_NOT_FOUND`, a damaged one `CHECKPOINT_CORRUPT`, a file of an
 * earlier release `FORMAT_VERSION`, each naming the path.
 * @example
 * await fileHandler('runs/a/model/model.mtl').save(artifacts);
 */
export function fileHandler(path: string): IOHandler {
  return {
    place: path,
    async save(artifacts) {
      await writeFileAtomic(path, encodeArtifacts(artifacts));
    },
    async load() {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(path);
      } catch (e) {
        const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
        throw new MtlError(missing ? 'FILE_NOT_FOUND' : 'FILE_READ', missing ? 'no such file' : String(e), {
          place: path,
          cause: e,
        });
      }
      return decodeArtifacts(bytes, path);
    },
  };
}

registerIOScheme('file', fileHandler);

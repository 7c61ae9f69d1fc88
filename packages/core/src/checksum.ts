import { MtlError } from './errors.js';
import { sha256Hex } from './sha256.js';

// Portable (no Node built-in): a browser reads and writes the same checksummed files.
const CHECKSUMMED = /^\{"sha256":"([0-9a-f]{64})","data":([\s\S]*)\}\s*$/;

/**
 * JSON text wrapped with the SHA-256 of its body, for files that must be refused when changed
 * or truncated on disk (saved models): `{"sha256":"…","data":…}`. Read it back with
 * {@link parseChecksummedJson}.
 * @example
 * await writeFileAtomic('model.json', checksummedJson({ weights }));
 */
export function checksummedJson(value: unknown): string {
  const body = JSON.stringify(value);
  return `{"sha256":"${sha256Hex(body)}","data":${body}}`;
}

/**
 * Verifies and parses text written by {@link checksummedJson}; anything else, a changed byte or a
 * truncation is `CHECKPOINT_CORRUPT` naming `place`.
 * @example
 * const saved = parseChecksummedJson(readFileSync('model.json', 'utf8'), 'model.json');
 */
export function parseChecksummedJson(text: string, place: string): unknown {
  const match = CHECKSUMMED.exec(text);
  if (match === null) {
    throw new MtlError('CHECKPOINT_CORRUPT', 'not a checksummed file (truncated or edited?)', { place });
  }
  const [, sha, body] = match;
  if (sha256Hex(body!) !== sha) {
    throw new MtlError('CHECKPOINT_CORRUPT', 'checksum mismatch: the file was changed or damaged', { place });
  }
  try {
    return JSON.parse(body!);
  } catch (e) {
    throw new MtlError('CHECKPOINT_CORRUPT', `not valid JSON (${(e as Error).message})`, { place });
  }
}

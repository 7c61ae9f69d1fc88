import { listNames, MtlError } from './errors.js';
import { sha256, sha256Hex } from './sha256.js';

// Portable (no Node built-in): one saved format for every model kind and for trainer checkpoints,
// read and written through tf.io-style handlers chosen by URL. Node adds `file://` (@mtl/core/node).

/**
 * The `format` tag of every file this release saves (models of every kind, trainer checkpoints).
 * @example
 * artifacts.format === SAVED_FORMAT; // 'mtl-saved'
 */
export const SAVED_FORMAT = 'mtl-saved';
/**
 * The version of {@link SAVED_FORMAT} this release writes and reads. Version 1 files (the JSON
 * models and `MTLCKPT1` checkpoints of earlier releases) are refused with `FORMAT_VERSION`.
 * @example
 * artifacts.version === SAVED_FORMAT_VERSION; // 2
 */
export const SAVED_FORMAT_VERSION = 2;

/**
 * A tensor's values on the host, with its name, shape and dtype (what a weight buffer holds).
 * @example
 * const a: NamedArray = { name: 'head/w', dtype: 'float32', shape: [2], values: new Float32Array([1, 2]) };
 */
export interface NamedArray {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  values: Float32Array | Int32Array;
}

/**
 * Where one tensor lies in {@link ModelArtifacts.weightData}: tensors follow each other in the
 * order of the specs, 4 bytes a value, little-endian.
 * @example
 * const w: WeightSpec = { name: 'head/kernel', shape: [4, 2], dtype: 'float32' };
 */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/**
 * What a model or a trainer checkpoint saves: the format tag and version, the kind of thing saved
 * (`multitask`, `vae`, `vmtl`, `checkpoint`, ...), a JSON spec to rebuild it, the weights (specs and
 * one binary buffer) and the SHA-256 of all of it (hex), checked on every load.
 * @example
 * const a = makeArtifacts('demo', { units: 2 }, [{ name: 'w', dtype: 'float32', shape: [2], values: new Float32Array([1, 2]) }]);
 * a.weightSpecs; // [{ name: 'w', shape: [2], dtype: 'float32' }]
 */
export interface ModelArtifacts {
  format: typeof SAVED_FORMAT;
  version: number;
  kind: string;
  /** JSON (non-finite numbers allowed: they are tagged on the way to bytes). */
  spec: unknown;
  weightSpecs: WeightSpec[];
  weightData: Uint8Array;
  /** SHA-256 (hex) of the encoded header and weight data, see {@link encodeArtifacts}. */
  sha256: string;
}

/**
 * Saves and loads {@link ModelArtifacts} somewhere (memory, a file, IndexedDB, a download), like
 * tfjs' `tf.io.IOHandler`. `place` names the target in errors.
 * @example
 * const handler: IOHandler = ioHandler('memory://my-model');
 * await handler.save(artifacts);
 */
export interface IOHandler {
  readonly place: string;
  save(artifacts: ModelArtifacts): Promise<void>;
  load(): Promise<ModelArtifacts>;
}

const MAGIC = 'MTLSAVED';
const HASH_BYTES = 32;
const PREFIX_BYTES = MAGIC.length + 4;

function assertLittleEndian(): void {
  // The first byte of a 16-bit 1 is 1 on a little-endian host (node:os is not portable).
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new MtlError('NOT_IMPLEMENTED', 'saved files are little-endian; this host is big-endian', {
      place: 'saved format',
    });
  }
}

// JSON has no NaN/Infinity; a metric in a trainer's history can be NaN, so tag non-finite numbers.
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return { $float: String(value) };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const tag = (value as { $float?: unknown }).$float;
    if (Object.keys(value).length === 1 && typeof tag === 'string') return Number(tag);
  }
  return value;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** The file bytes without the trailing hash: magic | header length | header JSON | weight data. */
function encodeBody(kind: string, spec: unknown, weightSpecs: WeightSpec[], weightData: Uint8Array) {
  assertLittleEndian();
  const header = { format: SAVED_FORMAT, version: SAVED_FORMAT_VERSION, kind, spec, weightSpecs };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header, replacer));
  const out = new Uint8Array(PREFIX_BYTES + headerBytes.length + weightData.length + HASH_BYTES);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  out.set(weightData, PREFIX_BYTES + headerBytes.length);
  return out;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Packs a spec and named arrays into {@link ModelArtifacts} (one weight buffer, checksummed). The
 * values are copied: later changes to the arrays do not reach the artifacts.
 * @example
 * const a = makeArtifacts('checkpoint', { step: 3 }, [{ name: 'w', dtype: 'float32', shape: [1], values: new Float32Array([2]) }]);
 */
export function makeArtifacts(kind: string, spec: unknown, arrays: readonly NamedArray[]): ModelArtifacts {
  const weightSpecs: WeightSpec[] = [];
  const names = new Set<string>();
  let bytes = 0;
  for (const a of arrays) {
    if (names.has(a.name)) {
      throw new MtlError('DUPLICATE_NAME', `two weights are named "${a.name}"`, { place: `saving ${kind}` });
    }
    names.add(a.name);
    if (a.values.length !== sizeOf(a.shape)) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `weight "${a.name}" has ${a.values.length} values but shape [${a.shape}]`,
        { place: `saving ${kind}` },
      );
    }
    weightSpecs.push({ name: a.name, shape: [...a.shape], dtype: a.dtype });
    bytes += a.values.byteLength;
  }
  const weightData = new Uint8Array(bytes);
  let offset = 0;
  for (const a of arrays) {
    weightData.set(new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength), offset);
    offset += a.values.byteLength;
  }
  // Round-trip the spec through its JSON so the artifacts hold exactly what a load gives back.
  const body = encodeBody(kind, spec, weightSpecs, weightData);
  const hash = sha256Hex(body.subarray(0, body.length - HASH_BYTES));
  return {
    format: SAVED_FORMAT,
    version: SAVED_FORMAT_VERSION,
    kind,
    spec: JSON.parse(JSON.stringify(spec, replacer), reviver),
    weightSpecs,
    weightData,
    sha256: hash,
  };
}

/**
 * The weights of artifacts as named arrays (copies, in the order of the specs).
 * @example
 * const byName = new Map(artifactArrays(a).map((w) => [w.name, w]));
 */
export function artifactArrays(artifacts: ModelArtifacts): NamedArray[] {
  const out: NamedArray[] = [];
  let offset = 0;
  for (const w of artifacts.weightSpecs) {
    const size = sizeOf(w.shape);
    const raw = artifacts.weightData.slice(offset, offset + size * 4);
    offset += size * 4;
    out.push({
      name: w.name,
      dtype: w.dtype,
      shape: [...w.shape],
      values: w.dtype === 'int32' ? new Int32Array(raw.buffer) : new Float32Array(raw.buffer),
    });
  }
  return out;
}

/**
 * Checks that artifacts are of `kind` (a model file given to another model kind's loader is
 * `CHECKPOINT_MISMATCH` naming both kinds).
 * @example
 * expectKind(await loadArtifacts('model.mtl'), 'multitask', 'model.mtl');
 */
export function expectKind(artifacts: ModelArtifacts, kind: string, place: string): ModelArtifacts {
  if (artifacts.kind !== kind) {
    throw new MtlError(
      'CHECKPOINT_MISMATCH',
      `holds a saved ${artifacts.kind}, not a ${kind} (format ${SAVED_FORMAT} version ${artifacts.version})`,
      { place },
    );
  }
  return artifacts;
}

/**
 * The bytes of one saved file: `"MTLSAVED"` (8 bytes) | header length (uint32 LE) | header JSON
 * (UTF-8: `{format, version, kind, spec, weightSpecs}`) | weight data (float32/int32 little-endian,
 * concatenated in the order of `weightSpecs`) | SHA-256 of everything before it (32 bytes).
 * @example
 * const bytes = encodeArtifacts(makeArtifacts('demo', {}, []));
 */
export function encodeArtifacts(artifacts: ModelArtifacts): Uint8Array {
  const out = encodeBody(artifacts.kind, artifacts.spec, artifacts.weightSpecs, artifacts.weightData);
  out.set(hexToBytes(artifacts.sha256), out.length - HASH_BYTES);
  return out;
}

/** What an earlier release wrote, when `bytes` are one of its files (for the refusal's message). */
function olderFormat(bytes: Uint8Array): { format: string; version: string } | undefined {
  const start = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  if (start.startsWith('MTLCKPT')) return { format: 'mtl-checkpoint', version: start.slice(7, 8) };
  if (!start.trimStart().startsWith('{')) return undefined;
  // Checksummed JSON models of release 1: `{"sha256":"…","data":{"format":"…","version":1,…`.
  const format = /"format"\s*:\s*"([^"]*)"/.exec(start)?.[1];
  const version = /"version"\s*:\s*(-?\d+)/.exec(start)?.[1];
  return format === undefined ? undefined : { format, version: version ?? 'unknown' };
}

function refuseVersion(found: { format: string; version: string }, place: string): never {
  throw new MtlError(
    'FORMAT_VERSION',
    `is format "${found.format}" version ${found.version}; this release reads "${SAVED_FORMAT}" version ${SAVED_FORMAT_VERSION} (files of earlier releases are not converted: train again)`,
    { place, details: { format: found.format, version: found.version, expected: SAVED_FORMAT_VERSION } },
  );
}

/**
 * Parses and verifies bytes written by {@link encodeArtifacts}. A file of an earlier release is
 * `FORMAT_VERSION` naming the format and version found and the ones expected; a changed byte, a
 * truncation or a malformed header is `CHECKPOINT_CORRUPT`; both name `place`.
 * @example
 * const a = decodeArtifacts(bytes, 'runs/a/model/model.mtl');
 */
export function decodeArtifacts(bytes: Uint8Array, place: string): ModelArtifacts {
  assertLittleEndian();
  const corrupt = (why: string) =>
    new MtlError('CHECKPOINT_CORRUPT', `not a valid saved file (${why})`, { place });
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) {
    const older = olderFormat(bytes);
    if (older !== undefined) refuseVersion(older, place);
    throw corrupt(bytes.length < MAGIC.length ? 'file too short' : 'bad magic');
  }
  if (bytes.length < PREFIX_BYTES + HASH_BYTES) throw corrupt('file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  const dataStart = PREFIX_BYTES + headerLength;
  const dataEnd = bytes.length - HASH_BYTES;
  let header: Record<string, unknown> | undefined;
  if (dataStart <= dataEnd) {
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREFIX_BYTES, dataStart)), reviver);
    } catch {
      header = undefined;
    }
  }
  // The version is read before the checksum: a newer layout may hash differently.
  if (
    header !== undefined &&
    header.format === SAVED_FORMAT &&
    typeof header.version === 'number' &&
    header.version !== SAVED_FORMAT_VERSION
  ) {
    refuseVersion({ format: SAVED_FORMAT, version: String(header.version) }, place);
  }
  const expected = bytes.subarray(dataEnd);
  const actual = sha256(bytes.subarray(0, dataEnd));
  if (actual.some((b, i) => b !== expected[i])) throw corrupt('SHA-256 checksum mismatch');
  if (header === undefined) throw corrupt('header is not JSON');
  const specs = header.weightSpecs;
  if (header.format !== SAVED_FORMAT || typeof header.kind !== 'string' || !Array.isArray(specs)) {
    throw corrupt('unknown header');
  }
  let total = 0;
  for (const w of specs as WeightSpec[]) {
    if (
      w === null ||
      typeof w.name !== 'string' ||
      (w.dtype !== 'float32' && w.dtype !== 'int32') ||
      !Array.isArray(w.shape) ||
      !w.shape.every((d) => Number.isInteger(d) && d >= 0)
    ) {
      throw corrupt(`bad weight spec ${JSON.stringify(w)}`);
    }
    total += sizeOf(w.shape) * 4;
  }
  if (total !== dataEnd - dataStart) {
    throw corrupt(`the weight specs need ${total} bytes, the file holds ${dataEnd - dataStart}`);
  }
  let hex = '';
  for (const b of actual) hex += b.toString(16).padStart(2, '0');
  return {
    format: SAVED_FORMAT,
    version: SAVED_FORMAT_VERSION,
    kind: header.kind,
    spec: header.spec,
    weightSpecs: specs as WeightSpec[],
    // A copy: `bytes` may be a view into a shared pool (Node's Buffer).
    weightData: new Uint8Array(bytes.subarray(dataStart, dataEnd)),
    sha256: hex,
  };
}

const memoryStore = new Map<string, Uint8Array>();

/**
 * A handler that keeps saved bytes in this process's memory under `name` (`memory://name`): the
 * same encoding and checks as a file, for tests and for a page without storage.
 * @example
 * await memoryHandler('m').save(artifacts);
 * const again = await memoryHandler('m').load();
 */
export function memoryHandler(name: string): IOHandler {
  const place = `memory://${name}`;
  return {
    place,
    async save(artifacts) {
      memoryStore.set(name, encodeArtifacts(artifacts));
    },
    async load() {
      const bytes = memoryStore.get(name);
      if (bytes === undefined) {
        throw new MtlError(
          'FILE_NOT_FOUND',
          `nothing saved there (saved: ${listNames(memoryStore.keys())})`,
          {
            place,
          },
        );
      }
      return decodeArtifacts(bytes, place);
    },
  };
}

/**
 * The bytes saved under `memory://name` (a copy), or undefined; with `bytes`, replaces them (to test
 * what a damaged file does). Mostly for tests.
 * @example
 * const bytes = memoryBytes('m')!;
 * bytes[20] ^= 1;
 * memoryBytes('m', bytes); // the next load is CHECKPOINT_CORRUPT
 */
export function memoryBytes(name: string, bytes?: Uint8Array): Uint8Array | undefined {
  if (bytes !== undefined) memoryStore.set(name, bytes.slice());
  return memoryStore.get(name)?.slice();
}

/**
 * Makes handlers for the URLs of one scheme (`indexeddb`, `file`, ...). `path` is what follows
 * `scheme://`.
 * @example
 * registerIOScheme('memory', (path) => memoryHandler(path));
 */
export type IOSchemeFactory = (path: string) => IOHandler;

const schemes = new Map<string, IOSchemeFactory>([['memory', memoryHandler]]);

/**
 * Adds (or replaces) the handlers of a URL scheme. `@mtl/core/node` registers `file`; the browser
 * handlers (`indexeddb`, `downloads`) are registered by `@mtl/core`'s main entry.
 * @example
 * registerIOScheme('memory', memoryHandler);
 */
export function registerIOScheme(scheme: string, factory: IOSchemeFactory): void {
  schemes.set(scheme, factory);
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i;

/**
 * The handler of a URL: `memory://name`, `indexeddb://name`, `downloads://name`, and in Node
 * `file://path` or a bare path (a single file, written atomically). An unknown scheme is
 * `INVALID_ARGUMENT` listing the known ones; a path in a browser is `NOT_IMPLEMENTED`.
 * @example
 * const handler = await ioHandler('memory://model');
 */
export async function ioHandler(url: string): Promise<IOHandler> {
  const m = SCHEME.exec(url);
  const scheme = m === null ? 'file' : m[1]!.toLowerCase();
  const path = m === null ? url : m[2]!;
  if (scheme === 'file' && !schemes.has('file')) {
    if (typeof process === 'undefined' || process.versions?.node === undefined) {
      throw new MtlError(
        'NOT_IMPLEMENTED',
        'files on disk need Node; in a browser use memory://, indexeddb:// or downloads://',
        { place: url },
      );
    }
    // By package name through a computed specifier: a browser bundle of the main entry leaves the
    // Node file handler out, and the name resolves through `exports` in tests and in dist alike.
    const specifier = '@mtl/core/node';
    await import(/* @vite-ignore */ specifier);
  }
  const factory = schemes.get(scheme);
  if (factory === undefined) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `unknown storage scheme "${scheme}://" (known: ${listNames(schemes.keys())}, or a file path)`,
      { place: url },
    );
  }
  return factory(path);
}

/**
 * Saves artifacts to a URL (see {@link ioHandler}).
 * @example
 * await saveArtifacts('memory://m', makeArtifacts('demo', {}, []));
 */
export async function saveArtifacts(url: string, artifacts: ModelArtifacts): Promise<void> {
  await (await ioHandler(url)).save(artifacts);
}

/**
 * Loads and verifies artifacts from a URL (see {@link ioHandler}).
 * @example
 * const a = await loadArtifacts('memory://m');
 */
export async function loadArtifacts(url: string): Promise<ModelArtifacts> {
  return (await ioHandler(url)).load();
}

/**
 * `dir` + `/` + `file` for a URL or a path (no Node `path` in portable code): `runs/a` and
 * `last.ckpt` give `runs/a/last.ckpt`.
 * @example
 * joinUrl('memory://run', 'last.ckpt'); // 'memory://run/last.ckpt'
 */
export function joinUrl(dir: string, file: string): string {
  return dir.endsWith('/') ? `${dir}${file}` : `${dir}/${file}`;
}

import { MtlError } from './errors.js';
import { decodeArtifacts, encodeArtifacts, type IOHandler, registerIOScheme } from './saved-format.js';

// Browser storage for saved models, written against the standard Web APIs only (IndexedDB, Blob,
// an <a download> click). Not exercised in a browser by this repository's tests (they run in
// Node); both refuse clearly where the API is missing.

// The few Web API shapes used here (core compiles without the DOM library).
interface IdbRequest<T = unknown> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
  onupgradeneeded?: (() => void) | null;
}
interface IdbStore {
  put(value: unknown, key: string): IdbRequest;
  get(key: string): IdbRequest;
}
interface IdbTransaction {
  objectStore(name: string): IdbStore;
  error: unknown;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
interface IdbDatabase {
  createObjectStore(name: string): unknown;
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  close(): void;
}
interface IdbFactory {
  open(name: string, version: number): IdbRequest<IdbDatabase>;
}
interface DocumentLike {
  createElement(tag: 'a'): { href: string; download: string; click(): void };
}

const DB_NAME = 'mtl-saved';
const STORE = 'files';

function openDb(place: string): Promise<IdbDatabase> {
  const idb = (globalThis as { indexedDB?: IdbFactory }).indexedDB;
  if (idb === undefined) {
    throw new MtlError('NOT_IMPLEMENTED', 'indexeddb:// needs a browser with IndexedDB', { place });
  }
  return new Promise((resolve, reject) => {
    const req = idb.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new MtlError('FILE_READ', String(req.error), { place, cause: req.error }));
  });
}

function request(db: IdbDatabase, mode: 'readonly' | 'readwrite', run: (s: IdbStore) => IdbRequest) {
  return new Promise<unknown>((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = run(tx.objectStore(STORE));
    // Resolve on commit, not on the request: a write is only durable once its transaction is.
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/**
 * `indexeddb://name`: the saved file's bytes under `name` in the page's IndexedDB (database
 * `mtl-saved`), written in one transaction (a reader sees the old or the new model, never a mix).
 * @example
 * await model.save('indexeddb://my-model');
 */
export function indexedDbHandler(name: string): IOHandler {
  const place = `indexeddb://${name}`;
  return {
    place,
    async save(artifacts) {
      const db = await openDb(place);
      try {
        await request(db, 'readwrite', (s) => s.put(encodeArtifacts(artifacts), name));
      } finally {
        db.close();
      }
    },
    async load() {
      const db = await openDb(place);
      let value: unknown;
      try {
        value = await request(db, 'readonly', (s) => s.get(name));
      } finally {
        db.close();
      }
      if (!(value instanceof Uint8Array)) {
        throw new MtlError('FILE_NOT_FOUND', 'nothing saved under this name', { place });
      }
      return decodeArtifacts(value, place);
    },
  };
}

/**
 * `downloads://name`: saving offers the file `name` (default extension `.mtl`) as a download;
 * loading is `NOT_IMPLEMENTED` (read the user's file with `decodeArtifacts(bytes)` from an
 * `<input type="file">`).
 * @example
 * await model.save('downloads://my-model');
 */
export function downloadsHandler(name: string): IOHandler {
  const place = `downloads://${name}`;
  const file = /\.[a-z0-9]+$/i.test(name) ? name : `${name}.mtl`;
  return {
    place,
    async save(artifacts) {
      const doc = (globalThis as { document?: DocumentLike }).document;
      if (doc === undefined || typeof URL.createObjectURL !== 'function') {
        throw new MtlError('NOT_IMPLEMENTED', 'downloads:// needs a browser page', { place });
      }
      const bytes = encodeArtifacts(artifacts);
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
      try {
        const a = doc.createElement('a');
        a.href = url;
        a.download = file;
        a.click();
      } finally {
        // After the click has handed the blob to the browser's download.
        setTimeout(() => URL.revokeObjectURL(url), 0);
      }
    },
    async load() {
      throw new MtlError(
        'NOT_IMPLEMENTED',
        'a download cannot be read back: pass the file the user picks to decodeArtifacts',
        { place },
      );
    },
  };
}

registerIOScheme('indexeddb', indexedDbHandler);
registerIOScheme('downloads', downloadsHandler);

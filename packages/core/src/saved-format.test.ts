import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksummedJson } from './checksum.js';
import {
  artifactArrays,
  decodeArtifacts,
  encodeArtifacts,
  expectKind,
  ioHandler,
  joinUrl,
  loadArtifacts,
  makeArtifacts,
  memoryBytes,
  saveArtifacts,
} from './saved-format.js';
import { caught } from './testing.js';

const arrays = () => [
  { name: 'enc/kernel', dtype: 'float32' as const, shape: [2, 2], values: new Float32Array([1, 2, 3, 4.5]) },
  { name: 'steps', dtype: 'int32' as const, shape: [3], values: new Int32Array([7, -1, 0]) },
];

describe('saved format (v2)', () => {
  it('packs named arrays into one buffer and gives them back (float32 and int32)', () => {
    const a = makeArtifacts('demo', { units: 2, loss: Number.NaN }, arrays());
    expect(a.weightSpecs).toEqual([
      { name: 'enc/kernel', shape: [2, 2], dtype: 'float32' },
      { name: 'steps', shape: [3], dtype: 'int32' },
    ]);
    expect(a.weightData.byteLength).toBe(28);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    const back = decodeArtifacts(encodeArtifacts(a), 'x');
    expect(back.sha256).toBe(a.sha256);
    expect((back.spec as { loss: number }).loss).toBeNaN();
    expect(artifactArrays(back)).toEqual(arrays());
  });

  it('memory:// and file:// (and bare paths) give the same artifacts back', async () => {
    const a = makeArtifacts('demo', { k: 1 }, arrays());
    const dir = mkdtempSync(join(tmpdir(), 'mtl-saved-'));
    for (const url of ['memory://demo', `file://${join(dir, 'a', 'm.mtl')}`, join(dir, 'b.mtl')]) {
      await saveArtifacts(url, a);
      const back = await loadArtifacts(url);
      expect(back).toEqual(a);
    }
    expect(readFileSync(join(dir, 'b.mtl')).subarray(0, 8).toString()).toBe('MTLSAVED');
  });

  it('detects any changed byte or truncation with the checksum (CHECKPOINT_CORRUPT naming the place)', async () => {
    await saveArtifacts('memory://corrupt', makeArtifacts('demo', { k: 1 }, arrays()));
    const good = memoryBytes('corrupt')!;
    for (const at of [0, 9, 14, good.length - 40, good.length - 1]) {
      const bad = good.slice();
      bad[at] = bad[at]! ^ 1;
      memoryBytes('corrupt', bad);
      const e = await caught(() => loadArtifacts('memory://corrupt'));
      expect(e.code).toBe('CHECKPOINT_CORRUPT');
      expect(e.message.startsWith('memory://corrupt: not a valid saved file')).toBe(true);
    }
    memoryBytes('corrupt', good.subarray(0, good.length - 3));
    expect((await caught(() => loadArtifacts('memory://corrupt'))).message).toContain('checksum');
  });

  it('refuses files of the earlier release, naming the file, the version found and the one expected', () => {
    const old = new TextEncoder().encode(
      checksummedJson({ format: 'mtl-multitask-model', version: 1, seed: 0, tasks: [], modules: {} }),
    );
    let e: unknown;
    try {
      decodeArtifacts(old, 'runs/a/model/model.json');
    } catch (err) {
      e = err;
    }
    expect(e).toMatchObject({
      code: 'FORMAT_VERSION',
      message:
        'runs/a/model/model.json: is format "mtl-multitask-model" version 1; this release reads "mtl-saved" version 2 (files of earlier releases are not converted: train again)',
    });
  });

  it('refuses a saved file of another version of this format before checking its checksum', () => {
    const bytes = encodeArtifacts(makeArtifacts('demo', {}, []));
    const text = new TextDecoder().decode(bytes);
    const patched = new TextEncoder().encode(text.replace('"version":2', '"version":3'));
    expect(() => decodeArtifacts(patched, 'm.mtl')).toThrow(
      /^m.mtl: is format "mtl-saved" version 3; this release reads "mtl-saved" version 2/,
    );
  });

  it('names what is missing, an unknown scheme, and another kind', async () => {
    expect(await caught(() => loadArtifacts('memory://never-saved'))).toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    const dir = mkdtempSync(join(tmpdir(), 'mtl-saved-'));
    const none = await caught(() => loadArtifacts(join(dir, 'none.mtl')));
    expect(none).toMatchObject({ code: 'FILE_NOT_FOUND', place: join(dir, 'none.mtl') });
    writeFileSync(join(dir, 'junk.mtl'), 'hello');
    expect(await caught(() => loadArtifacts(join(dir, 'junk.mtl')))).toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
    });
    const scheme = await caught(() => ioHandler('ftp://x'));
    expect(scheme.message).toMatch(
      /^ftp:\/\/x: unknown storage scheme "ftp:\/\/" \(known: .*downloads.*indexeddb.*memory/,
    );
    expect(() => expectKind(makeArtifacts('vae', {}, []), 'multitask', 'm.mtl')).toThrow(
      'm.mtl: holds a saved vae, not a multitask (format mtl-saved version 2)',
    );
    expect(joinUrl('memory://run', 'last.ckpt')).toBe('memory://run/last.ckpt');
  });

  it('indexeddb:// and downloads:// refuse clearly outside a browser', async () => {
    await import('./browser-io.js');
    const a = makeArtifacts('demo', {}, []);
    expect(await caught(async () => (await ioHandler('indexeddb://m')).save(a))).toMatchObject({
      code: 'NOT_IMPLEMENTED',
      message: 'indexeddb://m: indexeddb:// needs a browser with IndexedDB',
    });
    expect(await caught(async () => (await ioHandler('downloads://m')).save(a))).toMatchObject({
      code: 'NOT_IMPLEMENTED',
    });
  });
});

import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './fs.js';

describe('atomic writes', () => {
  it('writes, replaces, creates folders and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-fs-'));
    const target = join(dir, 'a', 'b.json');
    await writeFileAtomic(target, '{"v":1}');
    await writeFileAtomic(target, '{"v":2}');
    expect(readFileSync(target, 'utf8')).toBe('{"v":2}');
    writeFileAtomicSync(target, 'x');
    expect(readFileSync(target, 'utf8')).toBe('x');
    expect(readdirSync(join(dir, 'a'))).toEqual(['b.json']);
  });

  it('works with a bare file name in the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-fs-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await writeFileAtomic('bare.txt', 'ok');
      expect(readFileSync(join(dir, 'bare.txt'), 'utf8')).toBe('ok');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('checksummed JSON', () => {
  it('round-trips and refuses a changed byte, a truncation and plain JSON', async () => {
    const { checksummedJson, parseChecksummedJson } = await import('./checksum.js');
    const { readChecksummedJson } = await import('./fs.js');
    const value = { w: [0.5, -1.25], name: 'head' };
    const text = checksummedJson(value);
    expect(parseChecksummedJson(text, 'm.json')).toEqual(value);
    const edited = text.replace('0.5', '0.6');
    expect(() => parseChecksummedJson(edited, 'm.json')).toThrow('m.json: checksum mismatch');
    expect(() => parseChecksummedJson(text.slice(0, -5), 'm.json')).toThrow(/not a checksummed file/);
    expect(() => parseChecksummedJson(JSON.stringify(value), 'm.json')).toThrow(/not a checksummed file/);
    expect(() => readChecksummedJson('/no/such/file.json')).toThrow('/no/such/file.json: no such file');
  });
});

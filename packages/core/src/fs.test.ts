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

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { nodeIo } from './node-only.js';

it('nodeIo loads the Node file helpers at run time', async () => {
  const io = await nodeIo('test');
  const file = io.join(mkdtempSync(join(tmpdir(), 'mtl-nodeio-')), 'a', '..', 'b.txt');
  await io.writeFileAtomic(file, 'hello');
  expect(readFileSync(file, 'utf8')).toBe('hello');
  expect(await io.readFile(file, 'utf8')).toBe('hello');
});

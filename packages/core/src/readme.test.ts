import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { assertNoLeaks, MtlError, RandomStream, selectBackend, writeFileAtomic } from './index.js';

it('README example runs', async () => {
  const cwd = process.cwd();
  process.chdir(mkdtempSync(join(tmpdir(), 'mtl-core-readme-')));
  try {
    const backend = await selectBackend();
    const rng = new RandomStream(42);
    const order = rng.permutation(5);
    const noise = await assertNoLeaks(() =>
      tf.tidy(() => Array.from(tf.randomNormal([3], 0, 1, 'float32', rng.nextSeed()).dataSync())),
    );
    let message = '';
    try {
      throw new MtlError('DATA_NON_FINITE', 'value is NaN', { place: 'data/train.csv:12 column "x1"' });
    } catch (e) {
      message = `${(e as MtlError).code} ${(e as MtlError).message}`;
    }
    expect(message).toBe('DATA_NON_FINITE data/train.csv:12 column "x1": value is NaN');
    await writeFileAtomic('scores.json', JSON.stringify({ backend, order: [...order], noise }));
    const saved = JSON.parse(readFileSync('scores.json', 'utf8'));
    expect(saved.order).toEqual([...new RandomStream(42).permutation(5)]);
    expect(saved.noise).toHaveLength(3);
  } finally {
    process.chdir(cwd);
  }
});

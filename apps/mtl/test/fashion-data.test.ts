// The Fashion-MNIST data kinds (multifashion, fashion_domains) from Debian's dataset-fashion-mnist.
// Tests that read the real files skip where the package is absent; CI installs it (.ci/run).
import { join } from 'node:path';
import { FASHION_MNIST_PACKAGE, fashionMnistAvailable } from '@mtl/data/node';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLES, isEmptyOrMissing, readJson, tempDir, writeConfig } from './helpers.js';

const NEEDS = `needs Debian's ${FASHION_MNIST_PACKAGE} (apt-get install ${FASHION_MNIST_PACKAGE})`;
const present = fashionMnistAvailable();

describe('Fashion-MNIST data kinds', () => {
  it('a missing Fashion-MNIST folder is an input error naming the file and the package', async () => {
    const dir = tempDir();
    const cfg = writeConfig(
      `data:\n  mf: { kind: multifashion, dir: nowhere }\nmodules:\n  h: { kind: dense, units: 10 }\ntasks:\n  left: { data: mf, ops: [h] }\n`,
      'config.yaml',
      dir,
    );
    const out = join(dir, 'run');
    const r = await cli('train', cfg, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`data.mf ${join(dir, 'nowhere', 'train-images-idx3-ubyte.gz')}`);
    expect(r.err).toContain(`install Debian's ${FASHION_MNIST_PACKAGE}`);
    expect(isEmptyOrMissing(out)).toBe(true);
  });

  it('multifashion.yaml validates and, trained briefly, beats chance on both tasks', async (ctx) => {
    ctx.skip(!present, NEEDS);
    const cfg = join(EXAMPLES, 'multifashion.yaml');
    const v = await cli('validate', cfg);
    expect(v.code).toBe(0);
    expect(v.out).toContain('task left: mf [image] -> left (train 10000, valid 2000, test 2000)');
    expect(v.out).toContain('task right: mf [image] -> right (train 10000, valid 2000, test 2000)');
    const out = join(tempDir(), 'run');
    const before = tf.memory().numTensors;
    const small = ['data.mf.train=3000', 'data.mf.valid=500', 'data.mf.test=1000', 'training.epochs=2'];
    const r = await cli('train', cfg, '--out', out, '--quiet', ...small.flatMap((s) => ['--set', s]));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const scores = readJson<Record<string, number>>(join(out, 'scores.json'));
    // Chance is 0.1; this short run reaches about 0.64 (left) and 0.63 (right).
    expect(scores['left/mf/test/accuracy']!).toBeGreaterThan(0.5);
    expect(scores['right/mf/test/accuracy']!).toBeGreaterThan(0.5);
  });

  it('vmtl-domains-pretrained.yaml: the committed frozen encoder loads, is one module for the solo copies, and a saved run scores the same', async (ctx) => {
    ctx.skip(!present, NEEDS);
    const cfg = join(EXAMPLES, 'vmtl-domains-pretrained.yaml');
    const dir = tempDir();
    const solo = join(dir, 'solo');
    const short = ['training.epochs=2', 'data.fd.testPerClass=10', 'model.predictiveSamples=5'];
    const args = (...extra: string[]) => [...short, ...extra].flatMap((s) => ['--set', s]);
    const r = await cli('train', cfg, '--out', solo, '--quiet', ...args('model.prior=standardNormal'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const domains = ['original', 'rotated', 'inverted', 'noisy'];
    expect(readJson<{ modules: string[] }>(join(solo, 'summary.json')).modules).toEqual([
      'encoder',
      ...domains.map((d) => `${d}.trunk`),
      ...domains.map((d) => `${d}.classifier`),
    ]);
    const scores = readJson<Record<string, number>>(join(solo, 'scores.json'));
    const s = await cli('score', solo);
    expect(s.code).toBe(0);
    expect(s.out).toContain(`accuracy  ${scores['noisy/noisyDataset/test/accuracy']!.toFixed(4)}`);
    // Hard sharing reads the same encoder file.
    const hard = await cli('validate', join(EXAMPLES, 'domains-shared-pretrained.yaml'));
    expect(hard.code).toBe(0);
  });

  it('fashion_domains: one task per domain, N images per class, a fixed test set each', async (ctx) => {
    ctx.skip(!present, NEEDS);
    const cfg = writeConfig(
      [
        'data:',
        '  fd: { kind: fashion_domains, perClass: 5, validPerClass: 2, testPerClass: 50, size: 14 }',
        'modules:',
        '  trunk: { kind: mlp, inputSize: 196, hidden: [32], activation: relu }',
        ...['original', 'rotated', 'inverted', 'noisy'].map((d) => `  ${d}_head: { kind: dense, units: 10 }`),
        'tasks:',
        ...['original', 'rotated', 'inverted', 'noisy'].map(
          (d) => `  ${d}: { data: fd, ops: [trunk, ${d}_head] }`,
        ),
        'training: { epochs: 1 }',
      ].join('\n'),
    );
    const v = await cli('validate', cfg);
    expect(v.code).toBe(0);
    for (const d of ['original', 'rotated', 'inverted', 'noisy']) {
      expect(v.out).toContain(`task ${d}: ${d}Dataset [image] -> ${d} (train 50, valid 20, test 500)`);
    }
    const bad = await cli('validate', cfg, '--set', 'data.fd.perClass=2000');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('data.fd.perClass');
  });
});

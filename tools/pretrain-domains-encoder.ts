/**
 * Pretrains, without labels, the frozen encoder of apps/mtl/examples/vmtl-domains-pretrained.yaml
 * and domains-shared-pretrained.yaml (issue 14: the paper's regime is a pretrained feature
 * extractor shared by all tasks, few labels per task). A denoising autoencoder, dense
 * 196 → 128 → 64 (relu) → 128 → 196 (linear), trained to reconstruct 14 × 14 images from a
 * corrupted copy (Gaussian noise of 0.3 and a quarter of the pixels dropped), on unlabelled images
 * of all four domains; the encoder half is written as a tfjs LayersModel (model.json +
 * weights.bin, 134 KB).
 *
 * Which images: the first `--images` (default 12,000) items of Fashion-MNIST's TRAINING file,
 * labels never read. Every domain's test images come from the TEST file (makeFashionDomains deals
 * test rows from the test items only), so the encoder never sees a test image. Item i is shown as
 * domain i mod 4 (original, rotated 90°, inverted, noisy with its own σ = 0.5 noise drawn from this
 * script's seed, not the domains'), area-resampled to 14 × 14 as the domains are. The training
 * file's items also hold the domains' labelled rows (drawn per seed from all 60,000), so some of
 * the images may be a run's training inputs; only their pixels are used, as in any unsupervised
 * pretraining on a training pool.
 *
 * Deterministic: fixed seed, fixed batch order, the backend given (default wasm, as the runs):
 * the same command writes the same weights.bin (checked: sha256 212768420ac4086c… twice on wasm);
 * the committed model.json is the written one formatted by `npx biome check --write`.
 *
 *   nice node --conditions=source --import tsx tools/pretrain-domains-encoder.ts
 *        [--out apps/mtl/examples/domains-encoder] [--images 12000] [--epochs 30] [--seed 0]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BackendName, RandomStream, seedGlobalRandom, selectBackend } from '@mtl/core';
import { resizeArea, rotate90 } from '@mtl/data';
import { readFashionMnist } from '@mtl/data/node';
import * as tf from '@tensorflow/tfjs';
import { writeLayersModel } from '../apps/mtl/src/build/layers-files.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'apps/mtl/examples/domains-encoder' },
    images: { type: 'string', default: '12000' },
    epochs: { type: 'string', default: '30' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const SIZE = 14;
const D = SIZE * SIZE;
const count = Number(values.images);
const epochs = Number(values.epochs);
const seed = Number(values.seed);
const batchSize = 64;

await selectBackend({ backend: values.backend as BackendName });

const train = await readFashionMnist('train', { limit: count });
const rng = new RandomStream(`pretrain-domains-encoder/${seed}`);
const noiseRng = rng.child('domain-noise');
const pixels = new Float32Array(count * D);
for (let i = 0; i < count; i++) {
  const raw = new Float32Array(28 * 28);
  for (let p = 0; p < raw.length; p++) raw[p] = train.images[i * 28 * 28 + p]! / 255;
  const image = resizeArea(raw, 28, 28, SIZE, SIZE);
  const domain = i % 4;
  const out =
    domain === 0
      ? image
      : domain === 1
        ? rotate90(image, SIZE)
        : domain === 2
          ? image.map((v) => 1 - v)
          : image.map((v) => v + 0.5 * noiseRng.normal());
  pixels.set(out, i * D);
}

const restore = seedGlobalRandom(`pretrain-domains-encoder/${seed}`);
// A functional model: tfjs loads it built, with its input width declared (a loaded
// tf.sequential is built lazily, so its output width is unknown until its first call).
const input = tf.input({ shape: [D], name: 'image' });
const hidden = tf.layers.dense({ units: 128, activation: 'relu', name: 'enc_1' }).apply(input);
const code = tf.layers.dense({ units: 64, activation: 'relu', name: 'enc_2' }).apply(hidden);
const encoder = tf.model({ name: 'domains_encoder', inputs: input, outputs: code as tf.SymbolicTensor });
const decoder = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [64], units: 128, activation: 'relu', name: 'dec_1' }),
    tf.layers.dense({ units: D, name: 'dec_2' }),
  ],
});
restore();
const optimizer = tf.train.adam(1e-3);
const variables = [...encoder.trainableWeights, ...decoder.trainableWeights].map(
  (w) => (w as unknown as { val: tf.Variable }).val,
);
const all = tf.tensor2d(pixels, [count, D]);
const corruptRng = rng.child('corruption');
const start = Date.now();
for (let epoch = 0; epoch < epochs; epoch++) {
  const order = rng.child(`epoch-${epoch}`).permutation(count);
  let total = 0;
  let batches = 0;
  for (let b = 0; b + batchSize <= count; b += batchSize) {
    const idx = tf.tensor1d(order.slice(b, b + batchSize), 'int32');
    const noise = new Float32Array(batchSize * D);
    const keep = new Float32Array(batchSize * D);
    for (let k = 0; k < noise.length; k++) {
      noise[k] = 0.3 * corruptRng.normal();
      keep[k] = corruptRng.next() < 0.25 ? 0 : 1;
    }
    const loss = tf.tidy(() => {
      const x = tf.gather(all, idx);
      const corrupted = x.mul(tf.tensor2d(keep, [batchSize, D])).add(tf.tensor2d(noise, [batchSize, D]));
      return optimizer.minimize(
        () => {
          const code = encoder.apply(corrupted) as tf.Tensor;
          const recon = decoder.apply(code) as tf.Tensor;
          return tf.losses.meanSquaredError(x, recon) as tf.Scalar;
        },
        true,
        variables,
      )!;
    });
    total += (await loss.data())[0]!;
    batches++;
    loss.dispose();
    idx.dispose();
  }
  process.stderr.write(`epoch ${epoch + 1}/${epochs}: reconstruction mse ${(total / batches).toFixed(5)}\n`);
}
all.dispose();
optimizer.dispose();
const out = resolve(values.out);
await writeLayersModel(encoder, out);
const bytes = readFileSync(join(out, 'weights.bin'));
process.stdout.write(
  `wrote ${out} (${bytes.length} bytes of weights, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}) in ${((Date.now() - start) / 1000).toFixed(0)} s\n`,
);

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FASHION_MNIST_DIR } from '@mtl/data/node';
import { Trainer } from '@mtl/training';
import { loadConfig } from '../../apps/mtl/src/config/index.js';
import { prepare } from '../../apps/mtl/src/prepare.js';
import { timed, type Workload } from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = join(root, 'apps/mtl/examples/vmtl-domains.yaml');
/** Labelled images per class and domain (the study's middle N). */
const PER_CLASS = 20;
const BATCH = 32;

/** Why W8 cannot run here, or undefined. */
export function w8Missing(): string | undefined {
  return existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) ||
    existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte'))
    ? undefined
    : `Fashion-MNIST is not in ${FASHION_MNIST_DIR} (Debian: apt-get install dataset-fashion-mnist)`;
}

/**
 * W8: deep VMTL on the Fashion-MNIST domains (apps/mtl/examples/vmtl-domains.yaml's model: 4
 * domains, 14×14 pixels, shared MLP trunk 196-128-64, per-domain Bayesian classifiers with the α
 * mixture prior, upper-bound KL, KL weights ramped 0 → 0.01 over 100 steps, Adam 1e-3) with N = 20
 * labelled images per class and domain, a batch of 32 from every domain per step (128 examples).
 * Built as `mtl train` builds it: the config through the app's schema, the run by @mtl/variational's
 * `buildVmtlRun` (a DeepVmtlModel, since every task has `ops`). The timed part is `Trainer.fit` over
 * 60 steps (quick: 10); test accuracy (mean over the domains) in the notes.
 */
export const w8DeepVmtl: Workload = {
  id: 'W8',
  title: 'deep VMTL, Fashion-MNIST domains (N = 20, batch 32 per domain)',
  variants: [{ name: '4 domains', params: {} }],
  async run(_params, { quick, seed }) {
    const steps = quick ? 10 : 60;
    const loaded = loadConfig(CONFIG, [`data.fd.perClass=${PER_CLASS}`, `training.batchSize=${BATCH}`]);
    const prepared = await prepare(loaded, {});
    const { run } = prepared;
    try {
      const trainer = new Trainer({ seed, epochs: 1000, steps, lr: 1e-3, optimizer: { type: 'adam' } });
      let examples = 0;
      // Counts the rows each step trains on (a domain's last batch of an epoch is smaller).
      const counted = {
        trainableVariables: () => run.trainable.trainableVariables(),
        loss: (
          batches: Parameters<typeof run.trainable.loss>[0],
          ctx: Parameters<typeof run.trainable.loss>[1],
        ) => {
          for (const b of batches) examples += b.size;
          return run.trainable.loss(batches, ctx);
        },
      };
      const { ms, cpuMs } = await timed(() => trainer.fit(counted, { train: run.trainSource() }));
      const scores = await run.scoreAll();
      const accs = Object.entries(scores)
        .filter(([k]) => k.includes('/test/') && k.endsWith('/accuracy'))
        .map(([, v]) => v);
      return {
        ms,
        cpuMs,
        steps,
        examples,
        flops: 0,
        notes: {
          meanTestAccuracy: accs.reduce((a, v) => a + v, 0) / Math.max(1, accs.length),
          perClass: PER_CLASS,
        },
      };
    } finally {
      run.dispose();
    }
  },
};

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeVaeDomains } from '@mtl/vae';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { predict } from '../src/commands/predict.js';
import { cli, EXAMPLES, readJson, tempDir } from './helpers.js';

type Scores = Record<string, number>;
const CONFIG = join(EXAMPLES, 'mt-vae.yaml');
const TASKS = ['domain1', 'domain2', 'domain3', 'domain4'];
// The reduced budget of these tests (the full study is tools/mt-vae-study.ts, see mt-vae.md).
const REDUCED = ['--set', 'training.epochs=120', '--set', 'data.domains.test=300'];

describe('mt-vae example through the CLI', () => {
  let dir: string;
  let comparison: {
    split: string;
    multitask: Scores;
    mixture: Scores;
    solo: Scores;
    runs: { multitask: string };
  };
  let printed: string;

  beforeAll(async () => {
    dir = tempDir('mtl-vae-');
    const before = tf.memory().numTensors;
    const r = await cli('compare', CONFIG, '--out', join(dir, 'cmp'), ...REDUCED);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    printed = r.out;
    comparison = readJson(join(dir, 'cmp', 'comparison.json'));
    // Three CLI trainings: on a loaded machine they take minutes; the limit only stops a hang.
  }, 900_000);

  it('compare: the multitask VAE beats solo VAEs on held-out neg_elbo for at least 3 of 4 domains', () => {
    expect(comparison.split).toBe('test');
    let wins = 0;
    for (const t of TASKS) {
      const key = (m: string) => `${t}/${t}Dataset/test/${m}`;
      for (const scores of [comparison.multitask, comparison.mixture, comparison.solo]) {
        for (const m of ['recon_mse', 'recon_nll', 'kl', 'neg_elbo', 'active_units']) {
          expect(Number.isFinite(scores[key(m)]), `${key(m)}`).toBe(true);
        }
      }
      expect(comparison.mixture[key('neg_elbo_std_normal')]).toBeGreaterThan(0);
      // Margin in nats per example: the full 3-seed study's spread is under 0.5 (mt-vae.md).
      if (comparison.multitask[key('neg_elbo')]! < comparison.solo[key('neg_elbo')]! - 0.2) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(3);
    expect(printed).toMatch(/task\s+metric\s+multitask\s+mixture\s+solo\s+mt − solo/);
    expect(printed).toMatch(/multitask better than solo on test neg_elbo for [34] of 4 tasks/);
    expect(printed).toMatch(/Δm \(test, recon_mse, neg_elbo; multitask vs solo\): \d/);
  });

  it("predict: reconstructions and latent means; their error is the run's recon_mse", async () => {
    const run = comparison.runs.multitask;
    const [, domain2] = makeVaeDomains({ train: 64, test: 300 }, 7);
    const header = Array.from({ length: 16 }, (_, j) => `x_${j}`);
    const xs = Array.from({ length: domain2!.test.length }, (_, i) => domain2!.test.row(i).X.x as number[]);
    const input = join(dir, 'domain2-test.csv');
    writeFileSync(input, [header.join(','), ...xs.map((r) => r.join(','))].join('\n'));
    const output = join(dir, 'recon.csv');
    const r = await cli('predict', run, '--task', 'domain2', '--input', input, '--output', output);
    expect(r.err).toBe('');
    expect(r.out).toBe(`300 predictions written to ${output}`);
    const rows = parse(readFileSync(output, 'utf8'), { columns: true, cast: true }) as Record<
      string,
      number
    >[];
    // (The CSV writer keeps an empty `pred` column for tasks without class predictions.)
    expect(Object.keys(rows[0]!).filter((k) => k !== 'pred')).toEqual([
      'row',
      ...Array.from({ length: 16 }, (_, j) => `recon_${j}`),
      'z_mean_0',
      'z_mean_1',
    ]);
    let se = 0;
    rows.forEach((row, i) => {
      for (let j = 0; j < 16; j++) se += (row[`recon_${j}`]! - xs[i]![j]!) ** 2;
    });
    const scores = readJson<Scores>(join(run, 'scores.json'));
    expect(se / (300 * 16)).toBeCloseTo(scores['domain2/domain2Dataset/test/recon_mse']!, 4);
  });

  it('predict --sample N: draws from the prior, reproducibly', async () => {
    const run = comparison.runs.multitask;
    const out = (name: string) => join(dir, name);
    expect(await predict({ runDir: run, task: 'domain3', sample: 7, output: out('s1.jsonl') })).toBe(7);
    await predict({ runDir: run, task: 'domain3', sample: 7, output: out('s2.jsonl') });
    const text = readFileSync(out('s1.jsonl'), 'utf8');
    expect(readFileSync(out('s2.jsonl'), 'utf8')).toBe(text);
    const first = JSON.parse(text.split('\n')[0]!) as Record<string, number>;
    expect(Object.keys(first)).toEqual([
      'row',
      'z_0',
      'z_1',
      ...Array.from({ length: 16 }, (_, j) => `mean_${j}`),
      ...Array.from({ length: 16 }, (_, j) => `x_${j}`),
    ]);
    await expect(predict({ runDir: run, task: 'domain3', output: out('s3.csv') })).rejects.toThrow(
      /give either --input FILE or --sample N/,
    );
    await expect(predict({ runDir: run, task: 'nope', sample: 2, output: out('s4.csv') })).rejects.toThrow(
      /--task: unknown task "nope"/,
    );
  });

  it('score and --from: the saved VAE reloads exactly; a warm start reuses the shared modules', async () => {
    const run = comparison.runs.multitask;
    const s = await cli('score', run, '--json');
    expect(JSON.parse(s.out)).toEqual(readJson(join(run, 'scores.json')));
    const grown = join(dir, 'grown');
    const r = await cli(
      'train',
      CONFIG,
      '--from',
      run,
      '--out',
      grown,
      '--quiet',
      ...REDUCED,
      '--set',
      'training.epochs=1',
      '--set',
      'model.perTask=[lift, enc_head]',
    );
    expect(r.err).toBe('');
    const summary = readJson<Record<string, string[]>>(join(grown, 'summary.json'));
    expect(summary.reused!.sort()).toEqual([
      'decoder',
      'domain1.lift',
      'domain2.lift',
      'domain3.lift',
      'domain4.lift',
      'enc_trunk',
    ]);
    expect(summary.new!.sort()).toEqual(TASKS.map((t) => `${t}.enc_head`));
    expect(summary.dropped).toEqual(['enc_head']);
  });
});

describe('VQ-VAE on the same example', () => {
  it('trains without NaN and reports codebook perplexity', async () => {
    const out = join(tempDir('mtl-vq-'), 'run');
    const r = await cli(
      'train',
      CONFIG,
      '--out',
      out,
      '--quiet',
      ...REDUCED,
      '--set',
      'training.epochs=40',
      '--set',
      'model.encoder=[enc_trunk, vq_out]',
      '--set',
      'model.quantizer=codebook',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const scores = readJson<Scores>(join(out, 'scores.json'));
    expect(Object.values(scores).every(Number.isFinite)).toBe(true);
    for (const t of TASKS) {
      expect(scores[`${t}/${t}Dataset/test/perplexity`]).toBeGreaterThan(2);
      expect(scores[`${t}/${t}Dataset/test/kl`]).toBeCloseTo(Math.log(16), 5);
    }
    expect(readJson<{ modules: string[] }>(join(out, 'summary.json')).modules).toContain('codebook');
  });
});

describe('vae config errors name their place', () => {
  const cases: Array<[string, string[], RegExp]> = [
    [
      'unknown module in the decoder',
      ['model.decoder=[lift, nope]'],
      /model\.decoder\[1\]: unknown module "nope"/,
    ],
    ['perTask names a module no chain uses', ['model.perTask=[codebook]'], /model\.perTask\[0\]/],
    [
      'mixture prior with a VQ latent',
      ['model.prior=mixture', 'model.encoder=[enc_trunk, vq_out]', 'model.quantizer=codebook'],
      /the mixture prior needs Gaussian latents/,
    ],
    [
      'a module that does not fit the data',
      ['model.modules.enc_trunk.inputSize=15'],
      /model\.modules\.enc_trunk\.inputSize: module "enc_trunk" in task domain1 operation encoder\[0\]: inputSize is 15 but the input has 16 values per row/,
    ],
    [
      'a decoder that does not end in the data width',
      ['model.modules.decoder.outputSize=15'],
      /model\.modules\.decoder: the decoder ends in 15 values per row but input field "x" has 16/,
    ],
    [
      'a codebook of another width than the encoder output',
      [
        'model.encoder=[enc_trunk, vq_out]',
        'model.quantizer=codebook',
        'model.modules.codebook.embeddingDim=3',
      ],
      /model\.modules\.codebook\.embeddingDim: .*embeddingDim is 3 but the input has 2 values per row/,
    ],
    ['a bad data option', ['data.domains.taskSpread=-1'], /data\.domains\.taskSpread/],
  ];
  for (const [name, sets, message] of cases) {
    it(name, async () => {
      const r = await cli('validate', CONFIG, ...sets.flatMap((s) => ['--set', s]));
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }
});

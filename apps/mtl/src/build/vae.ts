import { join } from 'node:path';
import { MtlError, type RandomStream } from '@mtl/core';
import { multitaskImprovement, parseScoreKey, scoreKey } from '@mtl/scoring';
import { makeVaeDomains, VAE_METRIC_DIRECTIONS } from '@mtl/vae';
import type { z } from 'zod';
import type { CompareArgs, Comparison } from '../commands/compare.js';
import { comparedSplit, trainSoloRuns } from '../commands/solo-runs.js';
import type { TrainArgs, TrainResult } from '../commands/train.js';
import type { LoadedConfig } from '../config/index.js';
import type { vaeDomainsSourceSchema } from '../config/schema.js';
import type { LoadedSource } from './data.js';

type VaeDomainsConfig = z.infer<typeof vaeDomainsSourceSchema>;

/**
 * Loads a `vae_domains` source: one dataset group per domain (`train`, `test`, and `valid` when
 * asked), each domain's label being its true latent z; `truth` holds each domain's map A_t, b_t.
 */
export function loadVaeDomains(
  sourceName: string,
  config: VaeDomainsConfig,
  rng: RandomStream,
): LoadedSource {
  const seed = config.seed ?? rng.childSeed(`data/${sourceName}`);
  try {
    const domains = makeVaeDomains(
      {
        tasks: config.tasks,
        dim: config.dim,
        latentDim: config.latentDim,
        train: config.train,
        valid: config.valid,
        test: config.test,
        amplitude: config.amplitude,
        noise: config.noise,
        mapScale: config.mapScale,
        biasScale: config.biasScale,
        taskSpread: config.taskSpread,
        field: config.field,
        ...(config.taskNames === undefined ? {} : { taskNames: config.taskNames }),
      },
      seed,
    );
    return {
      name: sourceName,
      groups: domains.map((d) => ({ train: d.train, test: d.test, ...(d.valid ? { valid: d.valid } : {}) })),
      truth: Object.fromEntries(domains.map((d) => [d.name, { A: Array.from(d.A), b: Array.from(d.b) }])),
    };
  } catch (e) {
    if (e instanceof MtlError) throw e.within(`data.${sourceName}`);
    throw e;
  }
}

const chainOf = (c: string | readonly string[]): string[] => (typeof c === 'string' ? [c] : [...c]);

/** The metrics `mtl compare` reports for VAE tasks. */
const COMPARED = ['recon_mse', 'neg_elbo'] as const;

/**
 * `mtl compare` for a VAE config: three models with the same training budget, scored on the test
 * split (valid, else train, when there is none):
 * - `multitask`: the config as written, with the N(0, I) prior;
 * - `mixture`: the same modules with the mixture prior; the encoder's last module becomes per-task
 *   when it was shared (a shared encoder would make every component equal to q_t itself);
 *   left out for a VQ latent, which has no Gaussian posterior to mix;
 * - `solo`: one VAE per task (the config restricted to that task).
 * Δm is over held-out recon_mse and neg_elbo of multitask vs solo (neg_elbo only when every solo
 * value is positive, since a relative change is meaningless around 0).
 */
export async function compareVae(options: {
  args: CompareArgs;
  loaded: LoadedConfig;
  outDir: string;
  train: (args: TrainArgs) => Promise<TrainResult>;
  write: (line: string) => void;
}): Promise<Comparison & { mixture?: Record<string, number> }> {
  const { args, loaded, outDir, train, write } = options;
  const model = loaded.config.model;
  if (model.kind !== 'vae') throw new MtlError('INTERNAL', 'not a vae config', { place: 'compareVae' });
  const common = { config: args.config, backend: args.backend, quiet: true, write };
  const set = args.set ?? [];
  const say = (line: string) => {
    if (!args.quiet) write(line);
  };
  say('multitask run (shared modules, N(0, I) prior) ...');
  const mt = await train({
    ...common,
    set: [...set, 'model.prior=standardNormal'],
    out: join(outDir, 'multitask'),
  });
  let mix: TrainResult | undefined;
  if (model.quantizer === undefined && Object.keys(loaded.config.tasks).length > 1) {
    const encoder = chainOf(model.encoder);
    const head = encoder[encoder.length - 1]!;
    const perTask = model.perTask.includes(head) ? model.perTask : [...model.perTask, head];
    say(`mixture-prior run (per-task ${head}) ...`);
    mix = await train({
      ...common,
      set: [...set, 'model.prior=mixture', `model.perTask=[${perTask.join(', ')}]`],
      out: join(outDir, 'mixture'),
    });
  }
  const { solo, soloRuns } = await trainSoloRuns(
    train,
    { ...common, set },
    Object.keys(loaded.config.tasks),
    outDir,
    say,
  );
  const split = comparedSplit(mt.scores);
  const keys = Object.keys(mt.scores).filter((k) => {
    const p = parseScoreKey(k);
    return p.split === split && (COMPARED as readonly string[]).includes(p.metric) && k in solo;
  });
  const positive = keys.every((k) => parseScoreKey(k).metric !== 'neg_elbo' || solo[k]! > 0);
  const metrics = positive ? [...COMPARED] : ['recon_mse'];
  const pick = (s: Record<string, number>) => Object.fromEntries(keys.map((k) => [k, s[k]!]));
  const improvement = multitaskImprovement(pick(mt.scores), pick(solo), {
    split,
    metrics,
    higherIsBetter: VAE_METRIC_DIRECTIONS,
  });
  const comparison: Comparison & { mixture?: Record<string, number> } = {
    split,
    multitask: mt.scores,
    solo,
    deltaM: improvement.deltaM,
    perTask: improvement.perTask,
    perKey: improvement.perKey,
    runs: { multitask: mt.runDir, solo: soloRuns },
    ...(mix === undefined ? {} : { mixture: mix.scores }),
  };
  if (!args.quiet) {
    write('');
    write(formatVaeComparison(comparison, split));
    write(
      `Δm (${split}, ${metrics.join(', ')}; multitask vs solo): ${(improvement.deltaM * 100).toFixed(2)}%`,
    );
  }
  return comparison;
}

/**
 * The table `mtl compare` prints for VAE configs: per task, held-out recon_mse and neg_elbo of
 * the multitask, mixture-prior and solo models, and the difference multitask − solo (negative =
 * multitask better, since both are lower-is-better). The mixture model's neg_elbo is under its
 * own (input-dependent) prior; `neg_elbo_std_normal` is its bound under N(0, I), comparable with
 * the others.
 */
export function formatVaeComparison(
  c: { multitask: Record<string, number>; solo: Record<string, number>; mixture?: Record<string, number> },
  split: string,
): string {
  const rows: string[][] = [
    ['task', 'metric', 'multitask', ...(c.mixture ? ['mixture'] : []), 'solo', 'mt − solo'],
  ];
  // One row group per task/dataset of the split, in the order of their `task/dataset` text.
  const byPair = new Map<string, { task: string; dataset: string }>();
  for (const p of Object.keys(c.solo).map(parseScoreKey)) {
    if (p.split === split) byPair.set(`${p.task}/${p.dataset}`, p);
  }
  const tasks = [...byPair.keys()].sort().map((k) => byPair.get(k)!);
  let wins = 0;
  for (const { task, dataset } of tasks) {
    for (const metric of [...COMPARED, ...(c.mixture ? ['neg_elbo_std_normal'] : [])]) {
      const key = scoreKey(task, dataset, split, metric);
      const mt = c.multitask[key];
      const so = c.solo[key];
      const mx = c.mixture?.[key];
      const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
      rows.push([
        task,
        metric,
        fmt(mt),
        ...(c.mixture ? [fmt(mx)] : []),
        fmt(so),
        mt !== undefined && so !== undefined ? (mt - so).toFixed(4) : '-',
      ]);
      if (metric === 'neg_elbo' && mt !== undefined && so !== undefined && mt < so) wins++;
    }
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, j) => cell.padEnd(widths[j]!))
      .join('  ')
      .trimEnd(),
  );
  lines.push(`multitask better than solo on ${split} neg_elbo for ${wins} of ${tasks.length} tasks`);
  return lines.join('\n');
}

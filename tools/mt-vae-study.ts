/**
 * The seed study of apps/mtl/examples/mt-vae.md: runs `mtl compare examples/mt-vae.yaml` for
 * several training seeds (the data seed stays fixed), then prints, per task, the held-out neg_elbo
 * and recon_mse of the multitask, mixture-prior and solo models as mean ± std and range over the
 * seeds, and whether multitask − solo beats the seed-to-seed spread.
 *
 *   node --conditions=source --import tsx tools/mt-vae-study.ts [--seeds 1,2,3] [--out DIR]
 *        [--set training.epochs=15 --set data.domains.train=4000 ...]
 *
 * Writes DIR/study.json (every comparison and the summary) and DIR/study.md (the tables).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseScoreKey } from '@mtl/scoring';
import { compare } from '../apps/mtl/src/commands/compare.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    out: { type: 'string', default: `runs/mt-vae-study-${Date.now()}` },
    set: { type: 'string', multiple: true, default: [] },
    config: { type: 'string', default: 'apps/mtl/examples/mt-vae.yaml' },
  },
});
const seeds = values.seeds.split(',').map(Number);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

type Scores = Record<string, number>;
const runs: Array<{ seed: number; multitask: Scores; mixture?: Scores; solo: Scores; split: string }> = [];
for (const seed of seeds) {
  process.stderr.write(`seed ${seed} ...\n`);
  const c = (await compare({
    config: values.config,
    out: join(out, `seed-${seed}`),
    set: [...values.set, `seed=${seed}`],
    quiet: true,
  })) as Awaited<ReturnType<typeof compare>> & { mixture?: Scores };
  runs.push({
    seed,
    multitask: c.multitask,
    solo: c.solo,
    split: c.split,
    ...(c.mixture ? { mixture: c.mixture } : {}),
  });
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs), range: Math.max(...xs) - Math.min(...xs) };
};
const split = runs[0]!.split;
const keys = Object.keys(runs[0]!.solo)
  .filter((k) => parseScoreKey(k).split === split)
  .map(parseScoreKey);
const tasks = [...new Set(keys.map((p) => `${p.task}/${p.dataset}`))].sort();
const lines: string[] = [
  `seeds ${seeds.join(', ')}; ${values.set.join(' ') || 'config as written'}; split ${split}`,
  '',
  '| task | metric | multitask (mean ± std [min, max]) | mixture | solo | mt − solo (mean) | spread (max range) | mt better by more than the spread |',
  '|---|---|---|---|---|---|---|---|',
];
const summary: Record<string, unknown> = {};
let wins = 0;
for (const td of tasks) {
  for (const metric of ['neg_elbo', 'recon_mse', 'neg_elbo_std_normal']) {
    const key = `${td}/${split}/${metric}`;
    const col = (which: 'multitask' | 'mixture' | 'solo') => {
      const xs = runs.map((r) => r[which]?.[key]).filter((v): v is number => v !== undefined);
      return xs.length === runs.length ? stats(xs) : undefined;
    };
    const mt = col('multitask');
    const mx = col('mixture');
    const so = col('solo');
    const fmt = (s: ReturnType<typeof stats> | undefined) =>
      s === undefined
        ? '-'
        : `${s.mean.toFixed(3)} ± ${s.std.toFixed(3)} [${s.min.toFixed(3)}, ${s.max.toFixed(3)}]`;
    const diff = mt && so ? mt.mean - so.mean : undefined;
    const spread = mt && so ? Math.max(mt.range, so.range) : undefined;
    const better = diff !== undefined && spread !== undefined && -diff > spread;
    if (metric === 'neg_elbo' && better) wins++;
    summary[key] = { multitask: mt, mixture: mx, solo: so, diff, spread, better };
    lines.push(
      `| ${td.split('/')[0]} | ${metric} | ${fmt(mt)} | ${fmt(mx)} | ${fmt(so)} | ${diff === undefined ? '-' : diff.toFixed(3)} | ${spread === undefined ? '-' : spread.toFixed(3)} | ${diff === undefined ? '-' : better ? 'yes' : 'no'} |`,
    );
  }
}
lines.push(
  '',
  `multitask better than solo on ${split} neg_elbo by more than the seed-to-seed spread for ${wins} of ${tasks.length} tasks`,
);
const text = lines.join('\n');
writeFileSync(join(out, 'study.md'), `${text}\n`);
writeFileSync(join(out, 'study.json'), JSON.stringify({ seeds, set: values.set, runs, summary }, null, 2));
process.stdout.write(`${text}\n\nwritten ${join(out, 'study.md')}\n`);

#!/usr/bin/env node
/**
 * The slice-aware example against the plain model (issue 16): apps/mtl/examples/slice-aware.yaml
 * trained as it is and with `tasks.y.sliceAware=false` (the same trunk and head, no slice tasks),
 * for each seed (the config's `seed`: initialisation, batch order and the split of the fixed
 * points.csv, which the source's seed derives from it, so each seed has its own test rows).
 *
 *   nice node tools/slice-study.mjs [--seeds 1,2,3,4,5] [--out runs/slice-study]
 *
 * Prints, per seed, the test accuracy on the `corner` slice and on every row, and their means;
 * writes DIR/study.json. Runs `mtl train` one run at a time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4,5' },
    out: { type: 'string', default: 'runs/slice-study' },
  },
});
const seeds = values.seeds.split(',').map(Number);
mkdirSync(values.out, { recursive: true });
const rows = [];
for (const seed of seeds) {
  const row = { seed };
  for (const [model, aware] of [
    ['plain', 'false'],
    ['aware', 'true'],
  ]) {
    const dir = join(values.out, `${model}-${seed}`);
    execFileSync(
      'npx',
      [
        'mtl',
        'train',
        'apps/mtl/examples/slice-aware.yaml',
        '--set',
        `seed=${seed}`,
        '--set',
        `tasks.y.sliceAware=${aware}`,
        '--out',
        dir,
      ],
      { stdio: 'ignore' },
    );
    const s = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8'));
    row[model] = { slice: s['y/points/test/slice:corner:accuracy'], all: s['y/points/test/accuracy'] };
  }
  rows.push(row);
  console.log(
    `seed ${seed}: corner ${row.plain.slice.toFixed(4)} -> ${row.aware.slice.toFixed(4)}, all ${row.plain.all.toFixed(4)} -> ${row.aware.all.toFixed(4)}`,
  );
}
const mean = (f) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
console.log(
  `mean: corner ${mean((r) => r.plain.slice).toFixed(4)} -> ${mean((r) => r.aware.slice).toFixed(4)}, all ${mean((r) => r.plain.all).toFixed(4)} -> ${mean((r) => r.aware.all).toFixed(4)}`,
);
writeFileSync(join(values.out, 'study.json'), `${JSON.stringify(rows, null, 2)}\n`);

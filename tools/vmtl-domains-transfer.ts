/**
 * Do the domains' classifiers transfer? For runs of tools/vmtl-domains-study.ts, applies each
 * domain's head (task t's model) to every domain's test images and prints the accuracy matrix
 * (row: the head's domain, column: the images' domain), mean over the seeds. A prior that pulls
 * domain t's classifier toward domain d's can only help where d's classifier does well on t's
 * images (issue 14's question: does the original domain link with the noisy or the rotated one?).
 *
 *   nice node --conditions=source --import tsx tools/vmtl-domains-transfer.ts --study DIR --n 5
 *        [--seeds 0,1,2,3,4] [--method hard]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RandomStream } from '@mtl/core';
import { FASHION_DOMAINS, makeFashionDomains } from '@mtl/data';
import { readFashionMnist, writeCsv } from '@mtl/data/node';
import { predict } from '../apps/mtl/src/commands/predict.js';

const { values } = parseArgs({
  options: {
    study: { type: 'string' },
    n: { type: 'string', default: '5' },
    seeds: { type: 'string', default: '0,1,2,3,4' },
    method: { type: 'string', default: 'hard' },
  },
});
if (values.study === undefined) throw new Error('give --study DIR (the --out of vmtl-domains-study.ts)');
const n = Number(values.n);
const seeds = values.seeds.split(',').map(Number);
const source = { train: await readFashionMnist('train'), test: await readFashionMnist('test') };
const tmp = mkdtempSync(join(tmpdir(), 'vmtl-transfer-'));
const T = FASHION_DOMAINS.length;
const sum = Array.from({ length: T }, () => new Array<number>(T).fill(0));
try {
  for (const seed of seeds) {
    // The run's data: its configs' testPerClass 50 and size 14, this N, and the seed the app
    // derives for source `fd` from the config seed.
    const dataSeed = new RandomStream(seed).childSeed('data/fd');
    const domains = makeFashionDomains(source, { perClass: n, testPerClass: 50, size: 14 }, dataSeed);
    const labels: number[][] = [];
    const files: string[] = [];
    for (const d of domains) {
      const file = join(tmp, `${d.name}-${seed}.csv`);
      await writeCsv(d.test, file);
      labels.push(Array.from(d.test.labelValues(d.name)));
      files.push(file);
    }
    const runDir = resolve(values.study, `n${n}`, `seed-${seed}`, values.method);
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < T; d++) {
        const out = join(tmp, 'p.csv');
        await predict({ runDir, task: FASHION_DOMAINS[t]!, input: files[d]!, output: out });
        const preds = readFileSync(out, 'utf8')
          .trim()
          .split('\n')
          .slice(1)
          .map((line) => Number(line.split(',')[1]));
        sum[t]![d]! += preds.filter((p, i) => p === labels[d]![i]).length / preds.length / seeds.length;
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const lines = [
  `${values.method} runs at N = ${n}, seeds ${seeds.join(', ')}: test accuracy % of each domain's head (row) on each domain's test images (column), mean over the seeds`,
  '',
  `| head \\ images | ${FASHION_DOMAINS.join(' | ')} |`,
  `|---|${FASHION_DOMAINS.map(() => '---').join('|')}|`,
  ...FASHION_DOMAINS.map(
    (name, t) => `| ${name} | ${sum[t]!.map((v) => (100 * v).toFixed(1)).join(' | ')} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * The few-shot domains study of packages/variational/README.md (issue 14): for each N (labelled
 * images per class and domain) and each seed, trains solo (apps/mtl/examples/vmtl-domains.yaml
 * with `model.prior=standardNormal`: N(0, I) priors, a trunk per task), hard sharing
 * (apps/mtl/examples/domains-shared.yaml) and deep VMTL (vmtl-domains.yaml), and prints the mean
 * test accuracy over the four domains as median and range over the seeds, the learned α and β
 * (averaged over seeds), and the runs' wall time. The seed changes the data draw and the
 * initialisation. Every N gets about the same number of steps (`--steps`, default 120) so the
 * study fits a loaded machine; run it with `nice`, one at a time.
 *
 *   nice node --conditions=source --import tsx tools/vmtl-domains-study.ts [--n 5,20,100]
 *        [--seeds 0,1,2,3,4] [--steps 120] [--out DIR] [--trunk mlp|conv|pretrained]
 *        [--methods solo,hard,vmtl] [--set model.latentDim=16 ...]
 *
 * `--methods` adds the diagnosis baselines: `hardMixed` (hard sharing stepping every domain at
 * once, as the VMTL models do) and `sharedNormal` (VMTL's shared trunk and Bayesian classifiers
 * with N(0, I) priors: VMTL without the α prior). `--trunk pretrained` (the frozen encoder of
 * tools/pretrain-domains-encoder.ts) was run with `--steps 480`, the budget its validation curves
 * chose (tools/results/vmtl-domains-diagnosis.md).
 *
 * Writes DIR/study.json (every run's scores and mixing) and DIR/study.md (the tables).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseScoreKey } from '@mtl/scoring';
import { train } from '../apps/mtl/src/commands/train.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5,20,100' },
    seeds: { type: 'string', default: '0,1,2,3,4' },
    steps: { type: 'string', default: '120' },
    out: { type: 'string', default: `runs/vmtl-domains-study-${Date.now()}` },
    set: { type: 'string', multiple: true, default: [] },
    /**
     * `mlp` (vmtl-domains.yaml, domains-shared.yaml), `conv` (their -conv twins) or `pretrained`
     * (vmtl-domains-pretrained.yaml, domains-shared-pretrained.yaml: the frozen autoencoder of
     * tools/pretrain-domains-encoder.ts under a trainable dense layer).
     */
    trunk: { type: 'string', default: 'mlp' },
    /** Which of METHODS to run, in order (default solo,hard,vmtl: the README table). */
    methods: { type: 'string', default: 'solo,hard,vmtl' },
  },
});
const TRUNKS = { mlp: '', conv: '-conv', pretrained: '-pretrained' } as const;
if (!(values.trunk in TRUNKS)) throw new Error('--trunk is mlp, conv or pretrained');
const suffix = TRUNKS[values.trunk as keyof typeof TRUNKS];
const Ns = values.n.split(',').map(Number);
const seeds = values.seeds.split(',').map(Number);
const steps = Number(values.steps);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

const vmtlConfig = `apps/mtl/examples/vmtl-domains${suffix}.yaml`;
const sharedConfig = `apps/mtl/examples/domains-shared${suffix}.yaml`;
const METHODS = {
  /** N(0, I) classifier priors, a copy of the trainable trunk per domain. */
  solo: { config: vmtlConfig, set: ['model.prior=standardNormal'] },
  /** The trunk shared, a deterministic head per domain, one task's batch per step (the default scheduler). */
  hard: { config: sharedConfig, set: [] as string[] },
  /** Hard sharing with every domain's batch in every step, as the VMTL models step. */
  hardMixed: { config: sharedConfig, set: ['training.scheduler=mixed'] },
  /** The trunk shared, Bayesian classifiers under N(0, I) priors: VMTL without the α prior. */
  sharedNormal: { config: vmtlConfig, set: ['model.prior=standardNormal', 'model.shareTrunk=true'] },
  /** The trunk shared, Bayesian classifiers under the α mixture prior. */
  vmtl: { config: vmtlConfig, set: [] as string[] },
} as const;
type Method = keyof typeof METHODS;
const methods = values.methods.split(',') as Method[];
for (const m of methods)
  if (!(m in METHODS)) throw new Error(`unknown method ${m} (known: ${Object.keys(METHODS)})`);
type Matrix = (number | null)[][];

interface Run {
  n: number;
  seed: number;
  method: Method;
  accuracy: number;
  perDomain: Record<string, number>;
  seconds: number;
  mixing?: { tasks: string[]; alpha: Matrix; beta: Matrix | null };
}
const runs: Run[] = [];
const quiet = () => {};
for (const n of Ns) {
  // Steps per epoch of a stacked VMTL step (10 N rows per domain, batch 32); hard sharing runs the
  // same epochs (each task sees as many of its batches).
  const epochs = Math.max(1, Math.round(steps / Math.ceil((10 * n) / 32)));
  for (const seed of seeds) {
    for (const method of methods) {
      const m = METHODS[method];
      const dir = join(out, `n${n}`, `seed-${seed}`, method);
      const start = Date.now();
      const r = await train({
        config: m.config,
        out: dir,
        quiet: true,
        write: quiet,
        set: [
          `data.fd.perClass=${n}`,
          `seed=${seed}`,
          `training.epochs=${epochs}`,
          ...(method === 'hard' || method === 'hardMixed' ? [] : values.set),
          ...m.set,
        ],
      });
      const acc = Object.entries(r.scores).filter(([k]) => {
        const p = parseScoreKey(k);
        return p.split === 'test' && p.metric === 'accuracy';
      });
      const perDomain = Object.fromEntries(acc.map(([k, v]) => [parseScoreKey(k).task, v]));
      const run: Run = {
        n,
        seed,
        method,
        accuracy: acc.reduce((a, [, v]) => a + v, 0) / acc.length,
        perDomain,
        seconds: (Date.now() - start) / 1000,
      };
      if (method === 'vmtl') run.mixing = JSON.parse(readFileSync(join(dir, 'mixing.json'), 'utf8'));
      runs.push(run);
      process.stderr.write(
        `N=${n} seed ${seed} ${method}: ${run.accuracy.toFixed(4)} (${run.seconds.toFixed(0)} s)\n`,
      );
      writeFileSync(
        join(out, 'study.json'),
        `${JSON.stringify({ steps, seeds, set: values.set, runs }, null, 2)}\n`,
      );
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const pct = (v: number) => (100 * v).toFixed(1);
const NAMES: Record<Method, string> = {
  solo: 'solo',
  hard: 'hard sharing',
  hardMixed: 'hard sharing (mixed steps)',
  sharedNormal: 'shared trunk, N(0, I) prior',
  vmtl: 'VMTL',
};
// The differences the issue's bar reads, where both methods ran.
const DIFFS = (
  [
    ['vmtl', 'solo'],
    ['vmtl', 'hard'],
    ['hard', 'solo'],
    ['vmtl', 'hardMixed'],
    ['hardMixed', 'solo'],
    ['vmtl', 'sharedNormal'],
  ] as const
).filter(([a, b]) => methods.includes(a) && methods.includes(b));
const lines: string[] = [
  `seeds ${seeds.join(', ')}; about ${steps} steps per run; ${values.trunk} trunk; ${values.set.join(' ') || 'configs as shipped'}`,
  '',
  `| N | ${methods.map((m) => NAMES[m]).join(' | ')} | ${DIFFS.map(([a, b]) => `${NAMES[a]} − ${NAMES[b]}`).join(' | ')} |`,
  `|---|${[...methods, ...DIFFS].map(() => '---').join('|')}|`,
];
for (const n of Ns) {
  const of = (m: Method) => runs.filter((r) => r.n === n && r.method === m).map((r) => r.accuracy);
  const cell = (m: Method) => {
    const xs = of(m);
    return `${pct(median(xs))} (${pct(Math.min(...xs))}–${pct(Math.max(...xs))})`;
  };
  const diff = (a: Method, b: Method) => {
    const d = of(a).map((v, i) => v - of(b)[i]!);
    return `${pct(median(d))} (${pct(Math.min(...d))}–${pct(Math.max(...d))})`;
  };
  lines.push(
    `| ${n} | ${methods.map(cell).join(' | ')} | ${DIFFS.map(([a, b]) => diff(a, b)).join(' | ')} |`,
  );
}
// Per domain: where a prior or a shared layer helps or hurts.
const domains = Object.keys(runs[0]?.perDomain ?? {});
lines.push('', 'Per domain, median test accuracy % over the seeds', '');
lines.push(`| N | method | ${domains.join(' | ')} |`, `|---|---|${domains.map(() => '---').join('|')}|`);
for (const n of Ns) {
  for (const m of methods) {
    const rs = runs.filter((r) => r.n === n && r.method === m);
    lines.push(
      `| ${n} | ${NAMES[m]} | ${domains.map((d) => pct(median(rs.map((r) => r.perDomain[d]!)))).join(' | ')} |`,
    );
  }
}
for (const n of Ns) {
  const mix = runs.filter((r) => r.n === n && r.mixing).map((r) => r.mixing!);
  if (mix.length === 0) continue;
  const tasks = mix[0]!.tasks;
  for (const which of ['alpha', 'beta'] as const) {
    const mats = mix.map((m) => m[which]).filter((m): m is Matrix => m !== null);
    if (mats.length === 0) continue;
    lines.push('', `${which} at N = ${n} (mean over seeds; row: the task whose prior it is)`, '');
    lines.push(`| | ${tasks.join(' | ')} |`, `|---|${tasks.map(() => '---').join('|')}|`);
    tasks.forEach((t, i) => {
      const row = tasks.map((_, j) =>
        i === j ? '–' : (mats.reduce((a, m) => a + (m[i]![j] as number), 0) / mats.length).toFixed(2),
      );
      lines.push(`| ${t} | ${row.join(' | ')} |`);
    });
  }
}
const total = runs.reduce((a, r) => a + r.seconds, 0);
lines.push('', `${runs.length} runs in ${(total / 60).toFixed(1)} min`);
writeFileSync(join(out, 'study.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);

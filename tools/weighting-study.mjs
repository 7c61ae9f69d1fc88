#!/usr/bin/env node
/**
 * Issue 15's quality study: Δm against solo of weighting methods on MultiFashion
 * (apps/mtl/examples/multifashion.yaml: 10k training images, an MLP trunk, two 10-class heads).
 *
 *   nice node tools/weighting-study.mjs [--epochs 2] [--seeds 1,2,3]
 *        [--methods equal,uncertainty,dwa,famo,pcgrad,mgda,cagrad,nashMtl,upgrad] [--out DIR]
 *
 * Runs the built CLI in this one process (`npm run build` or `node tools/prepare.mjs` first), one
 * run at a time: per seed (the config's `seed`: initialisation and batch order; the data set is
 * fixed) a solo run of each task, then a multitask run per method, all with `scheduler: mixed`, an
 * evaluation on the valid split after each epoch, and `checkpointMetric: model/all/valid/loss` with
 * `restoreBest`, so every model, solo or multitask, is the one of the epoch with the lowest valid
 * loss (the sum of the tasks' valid losses; never chosen on test, and never epoch 0, which is not
 * evaluated), and its test scores are those of that epoch.
 *
 * Δm is on the test accuracies against the solo baseline (each task's solo test accuracy, averaged
 * over the seeds): `deltaM` is LibMTL's mean over tasks of each task's mean relative change
 * (multitaskImprovement of @mtl/scoring); `flat` the mean over every (task, metric) key, as
 * Nash-MTL and FAMO report it. ms/step is the train phase's wall time (evaluations excluded) per
 * optimizer step. A finished run (its scores.json exists) is reused, so an interrupted study resumes.
 * Writes DIR/study.json (every run) and DIR/study.md (the table), after every run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { multitaskImprovement } from '@mtl/scoring';
import { parse, stringify } from 'yaml';

const root = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '2' },
    seeds: { type: 'string', default: '1,2,3' },
    methods: { type: 'string', default: 'equal,uncertainty,dwa,famo,pcgrad,mgda,cagrad,nashMtl,upgrad' },
    out: { type: 'string', default: 'runs/weighting-study' },
  },
});
const epochs = Number(values.epochs);
const seeds = values.seeds.split(',').map(Number);
const methods = values.methods.split(',');
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const mainJs = join(root, 'apps/mtl/dist/main.js');
if (!existsSync(mainJs)) {
  console.error(`${mainJs} is missing: run node tools/prepare.mjs first`);
  process.exit(2);
}
const { run } = await import(mainJs);

const LABELS = { equal: 'EW', uncertainty: 'UW', dwa: 'DWA', famo: 'FAMO', pcgrad: 'PCGrad', mgda: 'MGDA' };
Object.assign(LABELS, { cagrad: 'CAGrad', nashMtl: 'Nash-MTL', upgrad: 'UPGrad' });
const TASKS = ['left', 'right'];

// The example's config, with the study's training options; a solo config keeps one task and its head.
const example = parse(readFileSync(join(root, 'apps/mtl/examples/multifashion.yaml'), 'utf8'));
function configFile(name, edit) {
  const config = structuredClone(example);
  Object.assign(config.training, {
    epochs,
    scheduler: 'mixed',
    checkpointMetric: 'model/all/valid/loss',
    restoreBest: true,
  });
  // The same images in every run: the data set's own seed, not the run's.
  config.data.mf.seed = 7;
  edit(config);
  const file = join(out, `${name}.yaml`);
  writeFileSync(file, stringify(config));
  return file;
}
const multitaskConfig = configFile('multitask', () => {});
const soloConfig = Object.fromEntries(
  TASKS.map((task) => [
    task,
    configFile(`solo-${task}`, (c) => {
      for (const other of TASKS.filter((t) => t !== task)) {
        delete c.tasks[other];
        delete c.modules[`${other}_head`];
      }
    }),
  ]),
);

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
const records = [];
const started = Date.now();
const load = [];

async function train(name, config, sets) {
  const dir = join(out, name);
  if (!existsSync(join(dir, 'scores.json'))) {
    const errors = [];
    const code = await run(['train', config, '--quiet', '--out', dir, ...sets.flatMap((s) => ['--set', s])], {
      out: () => {},
      err: (l) => errors.push(l),
    });
    if (code !== 0) throw new Error(`${name}: exit ${code}: ${errors.join('\n')}`);
  }
  load.push(loadavg()[0]);
  const summary = readJson(join(dir, 'summary.json'));
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map(JSON.parse);
  const evaluated = lines.filter((l) => l['model/all/valid/loss'] != null);
  const best = evaluated.reduce((a, b) => (b['model/all/valid/loss'] < a['model/all/valid/loss'] ? b : a));
  const conflict = existsSync(join(dir, 'conflict.json')) ? readJson(join(dir, 'conflict.json')) : undefined;
  return {
    name,
    scores: readJson(join(dir, 'scores.json')),
    steps: summary.steps,
    msPerStep: (1000 * summary.timing.train.wallSeconds) / summary.steps,
    selectedEpoch: best.epoch,
    lastCosine: conflict?.evaluations.at(-1)?.cosine[0][1] ?? null,
  };
}

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const pct = (xs) => `${(100 * mean(xs)).toFixed(2)} ± ${(100 * sd(xs)).toFixed(2)}`;
const accKey = (task) => `${task}/mf/test/accuracy`;

function summarise() {
  const solo = records.filter((r) => r.kind === 'solo');
  const baselines = {};
  for (const task of TASKS) {
    const accs = solo.filter((r) => r.task === task).map((r) => r.scores[accKey(task)]);
    if (accs.length > 0) baselines[accKey(task)] = mean(accs);
  }
  const rows = [];
  const complete = Object.keys(baselines).length === TASKS.length;
  for (const method of methods) {
    const runs = records.filter((r) => r.kind === 'multitask' && r.method === method);
    if (runs.length === 0) continue;
    const d = complete
      ? runs.map((r) => multitaskImprovement(r.scores, baselines, { split: 'test', metrics: ['accuracy'] }))
      : [];
    rows.push({
      method,
      seeds: runs.map((r) => r.seed),
      deltaM: d.map((x) => x.deltaM),
      flat: d.map((x) => mean(Object.values(x.perKey))),
      acc: Object.fromEntries(TASKS.map((t) => [t, runs.map((r) => r.scores[accKey(t)])])),
      msPerStep: runs.map((r) => r.msPerStep),
      selectedEpochs: runs.map((r) => r.selectedEpoch),
      lastCosine: runs.map((r) => r.lastCosine),
    });
  }
  const ew = rows.find((r) => r.method === 'equal');
  const lines = [
    `MultiFashion (10k train / 2k valid / 2k test, 18×18, MLP 324-256-128 trunk), ${epochs} epochs, batch 64, Adam lr 0.001, scheduler mixed, wasm backend; ` +
      `epoch selected on model/all/valid/loss; seeds ${seeds.join(', ')}; ${new Date().toISOString().slice(0, 10)}, ` +
      `${cpus().length} cores, 1-min load ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)} during the runs, ` +
      `${((Date.now() - started) / 60000).toFixed(1)} min.`,
    '',
    `Solo test accuracy (baseline, mean ± sd over seeds): ${TASKS.map((t) => {
      const accs = solo.filter((r) => r.task === t).map((r) => r.scores[accKey(t)]);
      return `${t} ${pct(accs)} % (n=${accs.length})`;
    }).join(', ')}; solo epochs selected ${solo.map((r) => r.selectedEpoch).join(', ')}.`,
    '',
    '| method | Δm % (LibMTL, per-task mean) | Δm % (flat mean) | left acc % | right acc % | ms/step | ÷ EW | epochs selected | last cosine | seeds |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ratio = ew ? (mean(r.msPerStep) / mean(ew.msPerStep)).toFixed(2) : '—';
    lines.push(
      `| ${LABELS[r.method] ?? r.method} | ${r.deltaM.length ? pct(r.deltaM) : '—'} | ${r.flat.length ? pct(r.flat) : '—'} | ` +
        `${pct(r.acc.left)} | ${pct(r.acc.right)} | ${mean(r.msPerStep).toFixed(0)} | ${ratio} | ${r.selectedEpochs.join(', ')} | ` +
        `${mean(r.lastCosine.filter((c) => c !== null)).toFixed(3)} | ${r.seeds.length} |`,
    );
  }
  writeFileSync(
    join(out, 'study.json'),
    `${JSON.stringify({ epochs, seeds, methods, baselines, records, rows }, null, 2)}\n`,
  );
  writeFileSync(join(out, 'study.md'), `${lines.join('\n')}\n`);
  return lines.join('\n');
}

for (const seed of seeds) {
  for (const task of TASKS) {
    const r = await train(`seed${seed}-solo-${task}`, soloConfig[task], [`seed=${seed}`]);
    records.push({ ...r, kind: 'solo', task, seed });
    console.log(
      `seed ${seed} solo ${task}: test accuracy ${r.scores[accKey(task)]} (epoch ${r.selectedEpoch})`,
    );
    summarise();
  }
  for (const method of methods) {
    const r = await train(`seed${seed}-${method}`, multitaskConfig, [
      `seed=${seed}`,
      `training.weighting.method=${method}`,
    ]);
    records.push({ ...r, kind: 'multitask', method, seed });
    console.log(
      `seed ${seed} ${method}: ${TASKS.map((t) => `${t} ${r.scores[accKey(t)]}`).join(', ')}, ${r.msPerStep.toFixed(0)} ms/step`,
    );
    summarise();
  }
}
console.log(summarise());

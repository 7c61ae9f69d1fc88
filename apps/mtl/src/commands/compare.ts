import { join } from 'node:path';
import { MtlError } from '@mtl/core';
import { multitaskImprovement, parseScoreKey } from '@mtl/scoring';
import { compareVae } from '../build/vae.js';
import { loadConfig } from '../config/index.js';
import { createRunDir, defaultRunDir, RUN_FILES, writeJson } from '../run-dir.js';
import { comparedSplit, trainSoloRuns } from './solo-runs.js';
import { type TrainArgs, type TrainResult, train as trainRun } from './train.js';

/** One inner run; a Ctrl-C during it stops the comparison (exit 130) after its checkpoint. */
async function train(args: TrainArgs): Promise<TrainResult> {
  const r = await trainRun(args);
  if (r.interrupted) {
    throw new MtlError(
      'INTERRUPTED',
      `stopped by a signal; mtl train --resume ${r.runDir} finishes that run`,
      {
        place: 'mtl compare',
      },
    );
  }
  return r;
}

export interface CompareArgs {
  config: string;
  out?: string | undefined;
  set?: readonly string[];
  backend?: string | undefined;
  quiet?: boolean;
  write?: (line: string) => void;
}

export interface Comparison {
  split: string;
  multitask: Record<string, number>;
  solo: Record<string, number>;
  deltaM: number;
  perTask: Record<string, number>;
  perKey: Record<string, number>;
  runs: { multitask: string; solo: Record<string, string> };
  /** The data's ceiling on the compared keys (the true weights' scores), when the data knows it. */
  ceiling?: Record<string, number>;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * `mtl compare <config>`: the multitask model against one solo model per task, with the same
 * training budget (epochs, optimizer, batch size), compared on the test split (valid, else train,
 * when a task has none). For a VMTL config the solo baseline is the same per-task model with a
 * fixed N(0, I) prior and no mixing. Writes `comparison.json` with both score maps and Δm.
 */
export async function compare(args: CompareArgs): Promise<Comparison> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = loadConfig(args.config, args.set ?? []);
  const outDir = createRunDir(args.out ?? defaultRunDir(`${loaded.name}-compare`));
  const common = { config: args.config, set: args.set ?? [], backend: args.backend, quiet: true, write };
  if (loaded.config.model.kind === 'vae') {
    const c = await compareVae({ args, loaded, outDir, train, write });
    await writeJson(join(outDir, RUN_FILES.comparison), c);
    if (!args.quiet) write(`written ${join(outDir, RUN_FILES.comparison)}`);
    return c;
  }
  if (!args.quiet) write(`multitask run ...`);
  const mt = await train({ ...common, out: join(outDir, 'multitask') });
  const solo: Record<string, number> = {};
  const soloRuns: Record<string, string> = {};
  if (loaded.config.model.kind === 'vmtl') {
    if (!args.quiet) write('solo baseline (N(0, I) prior, no mixing) ...');
    const r = await train({
      ...common,
      set: [...common.set, 'model.prior=standardNormal'],
      out: join(outDir, 'solo'),
    });
    Object.assign(solo, r.scores);
    for (const t of Object.keys(loaded.config.tasks)) soloRuns[t] = r.runDir;
  } else {
    const say = (line: string) => {
      if (!args.quiet) write(line);
    };
    const r = await trainSoloRuns(train, common, Object.keys(loaded.config.tasks), outDir, say);
    Object.assign(solo, r.solo);
    Object.assign(soloRuns, r.soloRuns);
  }
  const split = comparedSplit(mt.scores);
  const taskKeys = Object.keys(mt.scores).filter((k) => {
    const p = parseScoreKey(k);
    return p.task !== 'model' && p.split === split && k in solo;
  });
  const metrics = [...new Set(taskKeys.map((k) => parseScoreKey(k).metric))];
  const chosen = metrics.filter((m) => m !== 'loss');
  const mtSel = Object.fromEntries(taskKeys.map((k) => [k, mt.scores[k]!]));
  const soloSel = Object.fromEntries(taskKeys.map((k) => [k, solo[k]!]));
  const improvement = multitaskImprovement(mtSel, soloSel, {
    split,
    metrics: chosen.length > 0 ? chosen : metrics,
  });
  const comparison: Comparison = {
    split,
    multitask: mt.scores,
    solo,
    deltaM: improvement.deltaM,
    perTask: improvement.perTask,
    perKey: improvement.perKey,
    runs: { multitask: mt.runDir, solo: soloRuns },
  };
  const ceiling = Object.fromEntries(
    taskKeys.filter((k) => mt.summary.ceiling?.[k] !== undefined).map((k) => [k, mt.summary.ceiling![k]!]),
  );
  if (Object.keys(ceiling).length > 0) comparison.ceiling = ceiling;
  await writeJson(join(outDir, RUN_FILES.comparison), comparison);
  if (!args.quiet) {
    const width = Math.max(10, ...taskKeys.map((k) => k.length));
    write('');
    // The data's ceiling (the true weights' score) reads the scores right: at the ceiling, no
    // model can improve on solo.
    const withCeiling = comparison.ceiling !== undefined;
    write(
      `${pad('score', width)}  multitask       solo          ${withCeiling ? 'ceiling       ' : ''}Δ (relative, + = multitask better)`,
    );
    for (const k of taskKeys.sort()) {
      const d = improvement.perKey[k];
      const c = comparison.ceiling?.[k];
      write(
        `${pad(k, width)}  ${pad(mt.scores[k]!.toFixed(4), 14)}  ${pad(solo[k]!.toFixed(4), 12)}  ${withCeiling ? `${pad(c === undefined ? '-' : c.toFixed(4), 12)}  ` : ''}${d === undefined ? '-' : `${(d * 100).toFixed(2)}%`}`,
      );
    }
    write(
      `Δm (${split}, ${(chosen.length > 0 ? chosen : metrics).join(', ')}): ${(improvement.deltaM * 100).toFixed(2)}%`,
    );
    write(`written ${join(outDir, RUN_FILES.comparison)}`);
  }
  return comparison;
}

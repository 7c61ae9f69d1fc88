import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { MtlError } from '@mtl/core';
import { CHECKPOINT_FILES, type HistoryRecord, loadCheckpoint } from '@mtl/training';
import { readMetricsJsonl } from '@mtl/training/node';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type GatesFile, gatesSchema } from './gate-charts.js';

/** The files of a run directory that the report reads (RUN_FILES in run-dir.ts, plus the VAE hook). */
export const REPORT_FILES = {
  config: 'config.resolved.yaml',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  scores: 'scores.json',
  mixing: 'mixing.json',
  comparison: 'comparison.json',
  reconstructions: 'reconstructions.json',
  gates: 'gates.json',
  checkpoints: 'checkpoints',
} as const;

const finite = z.number();
const matrix = z.array(z.array(z.number().nullable()));

/** `mixing.json` of a VMTL run: normalised mixing weights, `alpha[i][j]` = weight of task j in task i's prior. */
export const mixingSchema = z.object({
  tasks: z.array(z.string()).min(1),
  alpha: matrix,
  beta: matrix.nullable().optional(),
});
export type MixingFile = z.infer<typeof mixingSchema>;

const scoresSchema = z.record(z.string(), finite);

/** `comparison.json` written by `mtl compare`. */
export const comparisonSchema = z.object({
  split: z.string(),
  multitask: scoresSchema,
  solo: scoresSchema,
  deltaM: z.number(),
  perTask: z.record(z.string(), z.number()),
  perKey: z.record(z.string(), z.number()),
  runs: z.object({ multitask: z.string(), solo: z.record(z.string(), z.string()) }),
});
export type ComparisonFile = z.infer<typeof comparisonSchema>;

const point2 = z.tuple([z.number(), z.number()]);

/**
 * The hook for VAE tasks: `reconstructions.json`, written by whatever trains a task with a decoder,
 * maps a task name to examples of its input and their reconstructions. Only 2-D inputs are drawn
 * (one scatter chart per task, originals and reconstructions overlaid); other tasks are listed as
 * skipped. The file is optional; a run without it has no reconstruction section.
 */
export const reconstructionsSchema = z.record(
  z.string(),
  z.object({ original: z.array(z.array(z.number())), reconstruction: z.array(z.array(z.number())) }),
);
export type ReconstructionsFile = z.infer<typeof reconstructionsSchema>;

/** Whether every row of both arrays is a 2-D point (the only reconstructions the report draws). */
export function isTwoDimensional(r: ReconstructionsFile[string]): boolean {
  return [...r.original, ...r.reconstruction].every((p) => point2.safeParse(p).success);
}

/**
 * Where `checkpoints/best.ckpt` was saved, read from the checkpoint's own trainer state (the only
 * place a run records it). `epoch` is taken from the metrics.jsonl line of that step, so it follows
 * the same convention as every epoch the report shows; undefined when that line is not there.
 * @example
 * const b: BestCheckpoint = { metric: 'model/all/valid/loss', mode: 'min', value: 0.13, step: 400, epoch: 8 };
 */
export interface BestCheckpoint {
  /** The watched score key (`training.checkpointMetric`). */
  metric: string;
  mode: 'min' | 'max';
  value: number;
  step: number;
  epoch: number | undefined;
}

/**
 * A metric a run watches (`training.checkpointMetric`, `earlyStopping.metric`, plateau `lrSchedule.metric`).
 * @example
 * const w: WatchedMetric = { key: 'model/all/valid/loss', role: 'checkpoint' };
 */
export interface WatchedMetric {
  key: string;
  /** The config path that names it. */
  role: 'checkpoint' | 'early stopping' | 'lr plateau';
}

/** What a run directory holds now; every file is optional, since a run in progress has only some. */
export interface RunFiles {
  dir: string;
  name: string;
  /** The best checkpoint, when the run has written one. */
  best: BestCheckpoint | undefined;
  /** Why `checkpoints/best.ckpt` is there but could not be read (the rest of the report still is). */
  bestError?: string;
  watched: WatchedMetric[];
  configText: string | undefined;
  metrics: HistoryRecord[];
  scores: Record<string, number> | undefined;
  summary: Record<string, unknown> | undefined;
  mixing: MixingFile | undefined;
  reconstructions: ReconstructionsFile | undefined;
  /** `gates.json`: gate weights per evaluation (models with gated modules). */
  gates?: GatesFile | undefined;
}

/**
 * One run of a report on several runs, with the name its legend and columns show.
 * @example
 * const r: LabelledRun = { label: 'lr-0.1', run: await readRunFiles('runs/lr-0.1') };
 */
export interface LabelledRun {
  label: string;
  run: RunFiles;
}

/**
 * What the report is drawn from: one run, a `mtl compare` folder with its multitask sub-run, or
 * several runs drawn over each other (`mtl report RUN_A RUN_B ...`; `dir` is their common parent).
 */
export type ReportSource =
  | { kind: 'run'; run: RunFiles }
  | { kind: 'runs'; dir: string; name: string; runs: LabelledRun[] }
  | {
      kind: 'compare';
      dir: string;
      name: string;
      comparison: ComparisonFile | undefined;
      multitask: RunFiles | undefined;
      solo: Record<string, string>;
    };

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw new MtlError('FILE_READ', String(e), { place: path, cause: e });
  }
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MtlError('FILE_READ', `not JSON: ${(e as Error).message}`, { place: path, cause: e });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? `: ${issue.path.join('.')}` : '';
    throw new MtlError('FILE_READ', issue.message, { place: `${path}${at}` });
  }
  return parsed.data;
}

function checkMixing(m: MixingFile, path: string): MixingFile {
  const t = m.tasks.length;
  for (const name of ['alpha', 'beta'] as const) {
    const mat = m[name];
    if (mat === null || mat === undefined) continue;
    const bad = mat.length !== t ? -1 : mat.findIndex((row) => row.length !== t);
    if (mat.length !== t || bad >= 0) {
      throw new MtlError('FILE_READ', `${name} must be ${t}×${t} (one row and column per task)`, {
        place: `${path}: ${name}${bad >= 0 ? `[${bad}]` : ''}`,
      });
    }
  }
  return m;
}

/**
 * Reads what a run directory holds now. Missing files are `undefined` (a run still in progress);
 * a file that is there but malformed is FILE_READ naming the file (and the JSON path).
 * @example
 * const run = await readRunFiles('runs/snorkel-basics-2025-01-01T00-00-00');
 * run.metrics.length; // evaluations logged so far
 */
export async function readRunFiles(dir: string): Promise<RunFiles> {
  const abs = resolve(dir);
  const metricsPath = join(abs, REPORT_FILES.metrics);
  const mixingPath = join(abs, REPORT_FILES.mixing);
  const mixing = await readJson(mixingPath, mixingSchema);
  const configText = await readText(join(abs, REPORT_FILES.config));
  const metrics = existsSync(metricsPath) ? await readMetricsJsonl(metricsPath) : [];
  const best = await readBestCheckpoint(join(abs, REPORT_FILES.checkpoints, CHECKPOINT_FILES.best), metrics);
  return {
    dir: abs,
    name: basename(abs),
    ...best,
    watched: watchedMetrics(configText),
    configText,
    metrics,
    scores: await readJson(join(abs, REPORT_FILES.scores), scoresSchema),
    summary: await readJson(join(abs, REPORT_FILES.summary), z.record(z.string(), z.unknown())),
    mixing: mixing === undefined ? undefined : checkMixing(mixing, mixingPath),
    reconstructions: await readJson(join(abs, REPORT_FILES.reconstructions), reconstructionsSchema),
    gates: await readJson(join(abs, REPORT_FILES.gates), gatesSchema),
  };
}

/**
 * The best checkpoint's step, metric and value from its trainer state. The checkpoint is read whole
 * (its checksum verified) rather than trusting a bare header. A checkpoint that cannot be read does
 * not stop the report: the curves are still worth seeing, and the page says why no best is marked.
 * @example
 * const { best } = await readBestCheckpoint('runs/a/checkpoints/best.ckpt', history);
 */
export async function readBestCheckpoint(
  path: string,
  metrics: readonly HistoryRecord[],
): Promise<{ best: BestCheckpoint | undefined; bestError?: string }> {
  if (!existsSync(path)) return { best: undefined };
  try {
    const tracker = (await loadCheckpoint(path)).trainer?.best;
    if (tracker?.step == null || tracker.value === null || !Number.isFinite(tracker.value)) {
      return { best: undefined, bestError: `${path} records no best value` };
    }
    const epoch = metrics.find((r) => r.step === tracker.step)?.epoch;
    return {
      best: { metric: tracker.metric, mode: tracker.mode, value: tracker.value, step: tracker.step, epoch },
    };
  } catch (e) {
    return { best: undefined, bestError: (e as Error).message };
  }
}

/**
 * The watched metrics named in a resolved config (none when it is missing or not YAML).
 * @example
 * watchedMetrics('training:\n  checkpointMetric: model/all/valid/loss\n'); // [{ key: 'model/all/valid/loss', role: 'checkpoint' }]
 */
export function watchedMetrics(configText: string | undefined): WatchedMetric[] {
  if (configText === undefined) return [];
  let training: Record<string, unknown> | undefined;
  try {
    const config = parseYaml(configText) as { training?: Record<string, unknown> } | null;
    training = config?.training;
  } catch {
    return [];
  }
  if (training === undefined || training === null || typeof training !== 'object') return [];
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const sub = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  const checkpoint = str(training.checkpointMetric);
  const early = training.earlyStopping ? (str(sub(training.earlyStopping).metric) ?? checkpoint) : undefined;
  const plateau = str(sub(training.lrSchedule).metric);
  const out: WatchedMetric[] = [];
  if (checkpoint !== undefined) out.push({ key: checkpoint, role: 'checkpoint' });
  if (early !== undefined) out.push({ key: early, role: 'early stopping' });
  if (plateau !== undefined) out.push({ key: plateau, role: 'lr plateau' });
  return out;
}

const RUN_MARKERS = [REPORT_FILES.config, REPORT_FILES.metrics, REPORT_FILES.scores, REPORT_FILES.summary];

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * Decides what `dir` is and reads it: a `mtl compare` folder (comparison.json, or a `multitask/`
 * sub-run while the comparison is still running) or a run directory (any of its files). Anything
 * else is FILE_NOT_FOUND.
 * @example
 * const source = await readReportSource('runs/compare-1');
 * source.kind; // 'compare'
 */
export async function readReportSource(dir: string, place = 'RUN_DIR'): Promise<ReportSource> {
  const abs = resolve(dir);
  if (!isDir(abs)) throw new MtlError('FILE_NOT_FOUND', `${abs} is not a folder`, { place });
  const comparisonPath = join(abs, REPORT_FILES.comparison);
  const hasRunFiles = RUN_MARKERS.some((f) => existsSync(join(abs, f)));
  if (existsSync(comparisonPath) || (!hasRunFiles && isDir(join(abs, 'multitask')))) {
    const comparison = await readJson(comparisonPath, comparisonSchema);
    // The paths recorded in comparison.json are absolute when written; prefer the sub-folders
    // beside it, so a comparison folder that was moved or copied still reports.
    const local = join(abs, 'multitask');
    const mtDir = isDir(local) ? local : comparison?.runs.multitask;
    const solo: Record<string, string> = {};
    for (const [task, d] of Object.entries(comparison?.runs.solo ?? {})) {
      const near = [join(abs, `solo-${task}`), join(abs, 'solo')].find(isDir);
      solo[task] = near ?? d;
    }
    return {
      kind: 'compare',
      dir: abs,
      name: basename(abs),
      comparison,
      multitask: mtDir !== undefined && isDir(mtDir) ? await readRunFiles(mtDir) : undefined,
      solo,
    };
  }
  if (!hasRunFiles) {
    throw new MtlError(
      'FILE_NOT_FOUND',
      `${abs} is not a run directory: none of ${RUN_MARKERS.join(', ')} or ${REPORT_FILES.comparison} is there`,
      { place },
    );
  }
  return { kind: 'run', run: await readRunFiles(abs) };
}

/**
 * Short names that tell runs apart: each folder's name, with as many parent folders as it takes
 * to make the names distinct (`a/multitask`, `b/multitask`).
 * @example
 * runLabels(['/r/a/multitask', '/r/b/multitask']); // ['a/multitask', 'b/multitask']
 */
export function runLabels(dirs: readonly string[]): string[] {
  const parts = dirs.map((d) =>
    resolve(d)
      .split(sep)
      .filter((p) => p !== ''),
  );
  const longest = Math.max(1, ...parts.map((p) => p.length));
  for (let depth = 1; depth <= longest; depth++) {
    const labels = parts.map((p) => p.slice(-depth).join('/'));
    if (new Set(labels).size === labels.length) return labels;
  }
  return dirs.map((d) => resolve(d));
}

function commonParent(dirs: readonly string[]): string {
  let common = dirname(dirs[0]!);
  while (!dirs.every((d) => !relative(common, d).startsWith('..'))) {
    const up = dirname(common);
    if (up === common) break;
    common = up;
  }
  return common;
}

/**
 * Reads several runs to draw over each other. A `mtl compare` folder stands for its multitask and
 * solo runs; a folder named twice is INVALID_ARGUMENT, one that is not a run FILE_NOT_FOUND.
 * @example
 * const source = await readReportSources(['runs/a', 'runs/b']);
 * source.kind === 'runs' && source.runs.map((r) => r.label); // ['a', 'b']
 */
export async function readReportSources(dirs: readonly string[]): Promise<ReportSource> {
  if (dirs.length === 1) return readReportSource(dirs[0]!);
  const runs: RunFiles[] = [];
  for (const [i, dir] of dirs.entries()) {
    const source = await readReportSource(dir, `RUN_DIR ${i + 1} (${dir})`);
    if (source.kind === 'run') runs.push(source.run);
    else if (source.kind === 'compare') {
      if (source.multitask !== undefined) runs.push(source.multitask);
      for (const soloDir of new Set(Object.values(source.solo))) {
        if (isDir(soloDir)) runs.push(await readRunFiles(soloDir));
      }
    } else runs.push(...source.runs.map((r) => r.run));
  }
  const seen = new Set<string>();
  for (const r of runs) {
    if (seen.has(r.dir))
      throw new MtlError('INVALID_ARGUMENT', `${r.dir} is given twice`, { place: 'RUN_DIR' });
    seen.add(r.dir);
  }
  const labels = runLabels(runs.map((r) => r.dir));
  const dir = commonParent(runs.map((r) => r.dir));
  return {
    kind: 'runs',
    dir,
    name: `${runs.length} runs`,
    runs: runs.map((run, i) => ({ label: labels[i]!, run })),
  };
}

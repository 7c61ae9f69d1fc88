import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { MtlError } from '@mtl/core';
import { type HistoryRecord, readMetricsJsonl } from '@mtl/training';
import { z } from 'zod';

/** The files of a run directory that the report reads (RUN_FILES in run-dir.ts, plus the VAE hook). */
export const REPORT_FILES = {
  config: 'config.resolved.yaml',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  scores: 'scores.json',
  mixing: 'mixing.json',
  comparison: 'comparison.json',
  reconstructions: 'reconstructions.json',
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

/** What a run directory holds now; every file is optional, since a run in progress has only some. */
export interface RunFiles {
  dir: string;
  name: string;
  configText: string | undefined;
  metrics: HistoryRecord[];
  scores: Record<string, number> | undefined;
  summary: Record<string, unknown> | undefined;
  mixing: MixingFile | undefined;
  reconstructions: ReconstructionsFile | undefined;
}

/** What the report is drawn from: one run, or a `mtl compare` folder with its multitask sub-run. */
export type ReportSource =
  | { kind: 'run'; run: RunFiles }
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
  return {
    dir: abs,
    name: basename(abs),
    configText: await readText(join(abs, REPORT_FILES.config)),
    metrics: existsSync(metricsPath) ? await readMetricsJsonl(metricsPath) : [],
    scores: await readJson(join(abs, REPORT_FILES.scores), scoresSchema),
    summary: await readJson(join(abs, REPORT_FILES.summary), z.record(z.string(), z.unknown())),
    mixing: mixing === undefined ? undefined : checkMixing(mixing, mixingPath),
    reconstructions: await readJson(join(abs, REPORT_FILES.reconstructions), reconstructionsSchema),
  };
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

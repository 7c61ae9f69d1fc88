import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MtlError } from '@mtl/core';
import { writeFileAtomic } from '@mtl/core/node';
import { buildReportPage, type ReportKind, type ReportPage } from '../report/page.js';
import { readReportSources } from '../report/run-files.js';

/**
 * The page's name when several runs are drawn together (in their common parent folder).
 * @example
 * join(commonParent, RUNS_REPORT_FILE); // runs/report-runs.html
 */
export const RUNS_REPORT_FILE = 'report-runs.html';

export interface ReportArgs {
  /**
   * A run directory (finished or still training) or a `mtl compare` folder; or several, drawn over
   * each other (a compare folder then stands for its multitask and solo runs).
   */
  runDir: string | readonly string[];
  /** Where to write the page (default `<runDir>/report.html`; several runs: `<common parent>/report-runs.html`). */
  out?: string | undefined;
  quiet?: boolean;
  /** Where messages go (default stdout). */
  write?: (line: string) => void;
}

export interface ReportResult {
  /** Absolute path of the written page. */
  path: string;
  bytes: number;
  kind: ReportKind;
  inProgress: boolean;
  /** Every chart on the page (id, section, title, data rows drawn). */
  charts: ReportPage['charts'];
  /** Value cells of the score pivot (one per score key of each run). */
  scoreCells: number;
}

/**
 * `mtl report RUN_DIR [RUN_DIR ...] [--out FILE]`: writes a single self-contained HTML page
 * (charting library inlined, no network request when opened) with the run's summary, score pivot,
 * learning curves (train and valid on the same axes, the best checkpoint marked), VMTL mixing
 * heatmaps, the multitask-vs-solo comparison of a `mtl compare` folder, and the resolved config.
 * Several runs are overlaid: curves coloured by run, one score column group per run, the config
 * paths that differ. Reads whatever is there, so it also works on runs still training. The page is
 * written atomically (temporary file, then rename).
 * @example
 * const { path } = await report({ runDir: 'runs/snorkel-basics-2025-01-01T00-00-00' });
 * await report({ runDir: ['runs/a', 'runs/b'], out: 'a-vs-b.html' });
 */
export async function report(args: ReportArgs): Promise<ReportResult> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dirs = typeof args.runDir === 'string' ? [args.runDir] : [...args.runDir];
  if (dirs.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'report needs at least one run directory', { place: 'RUN_DIR' });
  }
  const source = await readReportSources(dirs);
  const dir = source.kind === 'run' ? source.run.dir : source.dir;
  const path = resolve(args.out ?? join(dir, source.kind === 'runs' ? RUNS_REPORT_FILE : 'report.html'));
  const page = buildReportPage(source);
  await writeFileAtomic(path, page.html);
  const bytes = statSync(path).size;
  if (!args.quiet) {
    write(
      `report: ${path} (${page.kind}${page.inProgress ? ', in progress' : ''}; ${page.charts.length} chart${page.charts.length === 1 ? '' : 's'}, ${(bytes / 1024).toFixed(0)} KiB)`,
    );
  }
  return {
    path,
    bytes,
    kind: page.kind,
    inProgress: page.inProgress,
    charts: page.charts,
    scoreCells: page.scoreCells,
  };
}

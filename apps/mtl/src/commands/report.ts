import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@mtl/core';
import { buildReportPage, type ReportKind, type ReportPage } from '../report/page.js';
import { readReportSource } from '../report/run-files.js';

export interface ReportArgs {
  /** A run directory (finished or still training) or a `mtl compare` folder. */
  runDir: string;
  /** Where to write the page (default `<runDir>/report.html`). */
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
  /** Rows of the score table (one per score key). */
  scoreRows: number;
}

/**
 * `mtl report <RUN_DIR> [--out FILE]`: writes a single self-contained HTML page (charting library
 * inlined, no network request when opened) with the run's summary, score table, learning curves,
 * VMTL mixing heatmaps, the multitask-vs-solo comparison of a `mtl compare` folder, and the
 * resolved config. Reads whatever is there, so it also works on a run still training. The page is
 * written atomically (temporary file, then rename).
 * @example
 * const { path } = await report({ runDir: 'runs/snorkel-basics-2025-01-01T00-00-00' });
 */
export async function report(args: ReportArgs): Promise<ReportResult> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const source = await readReportSource(args.runDir);
  const dir = source.kind === 'run' ? source.run.dir : source.dir;
  const path = resolve(args.out ?? join(dir, 'report.html'));
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
    scoreRows: page.scoreRows,
  };
}

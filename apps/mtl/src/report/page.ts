import { scoreRows } from '@mtl/scoring';
import { parse as parseYaml } from 'yaml';
import { chartLibraries } from './assets.js';
import {
  type Chart,
  compareCharts,
  comparedKeys,
  curveCharts,
  mixingCharts,
  reconstructionCharts,
} from './charts.js';
import { type Cell, chartDiv, escapeHtml, formatNumber, renderPage, type Section, table } from './html.js';
import { REPORT_FILES, type ReportSource, type RunFiles } from './run-files.js';

/** What was reported on: a multitask run, a VMTL run, or a `mtl compare` folder. */
export type ReportKind = 'multitask' | 'vmtl' | 'compare';

/** The built page and what it contains (for the caller's message, and for tests to check against). */
export interface ReportPage {
  html: string;
  kind: ReportKind;
  /** The run (or comparison) has not written its final files yet. */
  inProgress: boolean;
  charts: { id: string; section: Chart['section']; title: string; rows: number }[];
  /** Rows of the score table (one per key of scores.json; 0 while a run is in progress). */
  scoreRows: number;
}

const KIND_LABEL: Record<ReportKind, string> = {
  multitask: 'multitask run',
  vmtl: 'VMTL run',
  compare: 'comparison: multitask vs solo',
};

function note(text: string): string {
  return `<p class="note">${escapeHtml(text)}</p>`;
}

function chartsHtml(charts: readonly Chart[]): string {
  return `<div class="charts">${charts.map(chartDiv).join('\n')}</div>`;
}

function isVmtl(run: RunFiles): boolean {
  if (run.mixing !== undefined) return true;
  if (run.configText === undefined) return false;
  try {
    const config = parseYaml(run.configText) as { model?: { kind?: unknown } } | null;
    return config?.model?.kind === 'vmtl';
  } catch {
    return false;
  }
}

function summaryValue(v: unknown): Cell {
  if (typeof v === 'number') return { text: formatNumber(v), numeric: true };
  if (Array.isArray(v)) return { text: v.length === 0 ? '—' : v.map(String).join(', ') };
  if (typeof v === 'string') return { text: v };
  return { text: JSON.stringify(v) ?? String(v) };
}

/** The sections of one run; `prefix` names them apart inside a comparison. */
function runSections(
  run: RunFiles,
  prefix: string,
  charts: Chart[],
): { sections: Section[]; scoreRows: number } {
  const sections: Section[] = [];
  const id = (s: string) => (prefix === '' ? s : `${prefix.toLowerCase()}-${s}`);
  const title = (s: string) => (prefix === '' ? s : `${prefix} run: ${s}`);

  if (run.summary !== undefined) {
    sections.push({
      id: id('summary'),
      title: title('Summary'),
      html: table(
        'summary',
        [{ text: 'field' }, { text: 'value' }],
        Object.entries(run.summary).map(([k, v]) => [{ text: k }, summaryValue(v)]),
      ),
    });
  }

  let rows = 0;
  if (run.scores === undefined) {
    sections.push({
      id: id('scores'),
      title: title('Scores'),
      html: note(`No ${REPORT_FILES.scores} yet: the run is still training (or stopped before scoring).`),
    });
  } else {
    const scored = scoreRows(run.scores);
    rows = scored.length;
    sections.push({
      id: id('scores'),
      title: title('Scores'),
      html: table(
        'scores',
        [
          { text: 'task' },
          { text: 'dataset' },
          { text: 'split' },
          { text: 'metric' },
          { text: 'value', numeric: true },
        ],
        scored.map((r) => [
          { text: r.task },
          { text: r.dataset },
          { text: r.split },
          { text: r.metric },
          { text: formatNumber(r.value), numeric: true },
        ]),
      ),
    });
  }

  if (run.mixing !== undefined) {
    const heatmaps = mixingCharts(run.mixing);
    charts.push(...heatmaps);
    const noBeta =
      run.mixing.beta === null || run.mixing.beta === undefined
        ? note('β: none (the model has no latent prior to mix).')
        : '';
    sections.push({
      id: id('mixing'),
      title: title('Mixing weights'),
      html:
        note(
          'Normalised Gumbel-softmax mixing weights at the end of training. Row i is the prior of task i; ' +
            'column j is the weight of task j in it; rows sum to 1. The diagonal is never used and is left blank.',
        ) +
        chartsHtml(heatmaps) +
        noBeta,
    });
  }

  const curves = curveCharts(run.metrics);
  charts.push(...curves);
  const last = run.metrics.at(-1);
  sections.push({
    id: id('curves'),
    title: title('Learning curves'),
    html:
      curves.length === 0
        ? note(`No ${REPORT_FILES.metrics} lines yet: nothing has been logged.`)
        : note(
            `${run.metrics.length} logged evaluation${run.metrics.length === 1 ? '' : 's'} ` +
              `(last: step ${last!.step}, epoch ${last!.epoch}). One chart per task, a panel per split and metric.`,
          ) + chartsHtml(curves),
  });

  if (run.reconstructions !== undefined) {
    const rec = reconstructionCharts(run.reconstructions);
    charts.push(...rec.charts);
    sections.push({
      id: id('reconstructions'),
      title: title('Reconstructions'),
      html:
        chartsHtml(rec.charts) +
        (rec.skipped.length > 0 ? note(`Not drawn (inputs are not 2-D): ${rec.skipped.join(', ')}.`) : ''),
    });
  }

  sections.push({
    id: id('config'),
    title: title('Configuration'),
    html:
      run.configText === undefined
        ? note(`No ${REPORT_FILES.config} yet.`)
        : `<pre class="config">${escapeHtml(run.configText)}</pre>`,
  });
  return { sections, scoreRows: rows };
}

function percentCell(x: number | undefined): Cell {
  if (x === undefined) return { text: '—', numeric: true };
  return {
    text: `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`,
    numeric: true,
    className: x > 0 ? 'pos' : x < 0 ? 'neg' : '',
  };
}

function header(
  title: string,
  kind: ReportKind,
  status: string,
  inProgress: boolean,
  lines: string[],
): string {
  return (
    `<h1>${escapeHtml(title)}</h1>\n<div class="meta"><span class="badge">${escapeHtml(KIND_LABEL[kind])}</span>` +
    `<span class="badge${inProgress ? ' progress' : ''}">${escapeHtml(status)}</span> ` +
    lines.map((l) => escapeHtml(l)).join(' · ') +
    '</div>'
  );
}

function lastStep(run: RunFiles | undefined): string[] {
  const last = run?.metrics.at(-1);
  return last === undefined ? [] : [`last logged step ${last.step} (epoch ${last.epoch})`];
}

function runStatus(run: RunFiles): { status: string; inProgress: boolean } {
  if (run.scores === undefined) return { status: 'in progress', inProgress: true };
  const reason = run.summary?.stopReason;
  return { status: typeof reason === 'string' ? `finished: ${reason}` : 'finished', inProgress: false };
}

/**
 * Builds the report page of a run directory or comparison folder already read.
 * @example
 * const page = buildReportPage(await readReportSource('runs/a'), new Date());
 * await writeFileAtomic('runs/a/report.html', page.html);
 */
export function buildReportPage(source: ReportSource, generatedAt: Date = new Date()): ReportPage {
  const charts: Chart[] = [];
  const sections: Section[] = [];
  let kind: ReportKind;
  let inProgress: boolean;
  let status: string;
  let name: string;
  let dir: string;
  let scoreCount = 0;
  let metaLines: string[];
  if (source.kind === 'run') {
    const { run } = source;
    kind = isVmtl(run) ? 'vmtl' : 'multitask';
    ({ status, inProgress } = runStatus(run));
    name = run.name;
    dir = run.dir;
    const built = runSections(run, '', charts);
    sections.push(...built.sections);
    scoreCount = built.scoreRows;
    metaLines = lastStep(run);
  } else {
    kind = 'compare';
    name = source.name;
    dir = source.dir;
    const c = source.comparison;
    inProgress = c === undefined;
    status = inProgress ? 'in progress' : 'finished';
    if (c === undefined) {
      sections.push({
        id: 'comparison',
        title: 'Comparison',
        html: note(
          `No ${REPORT_FILES.comparison} yet: the multitask or solo runs are still training. ` +
            'What the multitask run has written so far is below.',
        ),
      });
    } else {
      const bars = compareCharts(c);
      charts.push(...bars);
      const keys = comparedKeys(c);
      const soloDirs = Object.entries(source.solo)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([t, d]) => `${t}: ${d}`);
      sections.push({
        id: 'comparison',
        title: 'Comparison',
        html:
          note(
            `Δm on ${c.split} = ${percentCell(c.deltaM).text}: the mean over tasks of the relative improvement ` +
              'of the multitask model over the solo models (+ = multitask better).',
          ) +
          chartsHtml(bars) +
          table(
            'comparison',
            [
              { text: 'score' },
              { text: 'multitask', numeric: true },
              { text: 'solo', numeric: true },
              { text: 'Δ (relative)', numeric: true },
            ],
            keys.map((k) => [
              { text: k },
              { text: formatNumber(c.multitask[k]!), numeric: true },
              { text: formatNumber(c.solo[k]!), numeric: true },
              percentCell(c.perKey[k]),
            ]),
          ) +
          table(
            'per-task',
            [{ text: 'task' }, { text: 'Δ (relative)', numeric: true }],
            Object.entries(c.perTask).map(([t, d]) => [{ text: t }, percentCell(d)]),
          ) +
          (soloDirs.length > 0 ? note(`Solo runs (mtl report DIR draws each): ${soloDirs.join('; ')}.`) : ''),
      });
    }
    if (source.multitask !== undefined) {
      const built = runSections(source.multitask, 'Multitask', charts);
      sections.push(...built.sections);
      scoreCount = built.scoreRows;
    } else {
      sections.push({
        id: 'multitask',
        title: 'Multitask run',
        html: note('No multitask run folder found.'),
      });
    }
    metaLines = lastStep(source.multitask);
  }
  const html = renderPage({
    title: `mtl report: ${name}`,
    header: header(`mtl report: ${name}`, kind, status, inProgress, [
      dir,
      ...metaLines,
      `written ${generatedAt
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')}`,
    ]),
    sections,
    charts,
    libraries: chartLibraries(),
  });
  return {
    html,
    kind,
    inProgress,
    charts: charts.map((c) => ({ id: c.id, section: c.section, title: c.title, rows: c.rows })),
    scoreRows: scoreCount,
  };
}

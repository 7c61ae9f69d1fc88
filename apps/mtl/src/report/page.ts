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
import { conflictCharts, taskWeightChart } from './conflict-charts.js';
import { gateCharts } from './gate-charts.js';
import { type Cell, chartDiv, escapeHtml, formatNumber, renderPage, type Section, table } from './html.js';
import { scorePivot } from './pivot.js';
import { type LabelledRun, REPORT_FILES, type ReportSource, type RunFiles } from './run-files.js';

/** What was reported on: a multitask run, a VMTL run, a `mtl compare` folder, or several runs. */
export type ReportKind = 'multitask' | 'vmtl' | 'compare' | 'runs';

/** The built page and what it contains (for the caller's message, and for tests to check against). */
export interface ReportPage {
  html: string;
  kind: ReportKind;
  /** The run (or comparison) has not written its final files yet. */
  inProgress: boolean;
  charts: { id: string; section: Chart['section']; title: string; rows: number; best?: Chart['best'] }[];
  /** Value cells of the score pivot (one per key of each run's scores.json; 0 while in progress). */
  scoreCells: number;
}

const KIND_LABEL: Record<ReportKind, string> = {
  multitask: 'multitask run',
  vmtl: 'VMTL run',
  compare: 'comparison: multitask vs solo',
  runs: 'runs overlaid',
};

/** What `model/all/<split>/loss` is, said once on every page that draws it. */
const MODEL_LOSS_NOTE =
  'model/all/<split>/loss is the objective: the weighted combination of the per-task losses that ' +
  'training minimises, defined the same way for every split, so its train and valid curves are comparable.';

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

/** The conflict monitor's and the task weights' sections of one run (none when not logged). */
function conflictSections(
  run: RunFiles,
  id: (s: string) => string,
  title: (s: string) => string,
  charts: Chart[],
): Section[] {
  const sections: Section[] = [];
  const conflicts = conflictCharts(run.metrics);
  if (conflicts.length > 0) {
    charts.push(...conflicts);
    sections.push({
      id: id('conflicts'),
      title: title('Gradient conflicts'),
      html:
        note(
          "Cosine similarity of every pair of tasks' gradients of the shared parameters, measured at each " +
            'evaluation on one fixed training batch (training.monitor.conflicts; conflict.json has the matrices). ' +
            'Below 0 a step for one task undoes part of the other’s; the tooltips give the norm ratio.',
        ) + chartsHtml(conflicts),
    });
  }
  const weights = taskWeightChart(run.metrics);
  if (weights !== undefined) {
    charts.push(weights);
    sections.push({
      id: id('weights'),
      title: title('Task weights'),
      html:
        note('The weight the weighting method (training.weighting) gave each task, as logged at each line.') +
        chartsHtml([weights]),
    });
  }
  return sections;
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
    const pivot = scorePivot([{ label: run.name, scores: run.scores }]);
    rows = pivot.cells;
    sections.push({
      id: id('scores'),
      title: title('Scores'),
      html: note('One table per metric: a row per task and dataset, a column per split.') + pivot.html,
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

  sections.push(...conflictSections(run, id, title, charts));
  sections.push(...gateSections(run, id, title, charts));

  const curves = curveCharts([
    { label: run.name, metrics: run.metrics, best: run.best, watched: run.watched },
  ]);
  charts.push(...curves);
  const last = run.metrics.at(-1);
  sections.push({
    id: id('curves'),
    title: title('Learning curves'),
    html:
      curves.length === 0
        ? note(`No ${REPORT_FILES.metrics} lines yet: nothing has been logged.`) + bestNote(run)
        : note(
            `${run.metrics.length} logged line${run.metrics.length === 1 ? '' : 's'} ` +
              `(last: step ${last!.step}, epoch ${last!.epoch}). One chart per task, a panel per metric ` +
              'with every split on the same axes, against the optimizer step (epoch in the tooltips).',
          ) +
          bestNote(run) +
          note(MODEL_LOSS_NOTE) +
          chartsHtml(curves),
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

function bestText(run: RunFiles): string {
  const b = run.best;
  if (b === undefined) return '';
  const epoch = b.epoch === undefined ? '' : ` (epoch ${b.epoch})`;
  return `step ${b.step}${epoch}, ${b.metric} = ${formatNumber(b.value)} (${b.mode})`;
}

/** Where the best checkpoint is, or why none is marked. */
function bestNote(run: RunFiles): string {
  if (run.best !== undefined) {
    return note(`Best checkpoint (dashed rule in every panel): ${bestText(run)}.`);
  }
  if (run.bestError !== undefined) return note(`No best checkpoint marked: ${run.bestError}.`);
  const checkpoint = run.watched.find((w) => w.role === 'checkpoint');
  return note(
    checkpoint === undefined
      ? 'No best checkpoint: the run sets no training.checkpointMetric.'
      : `No best checkpoint yet (watching ${checkpoint.key}).`,
  );
}

/** Leaf values of a parsed config by dotted path (arrays are leaves: compared as a whole). */
function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, path === '' ? k : `${path}.${k}`, out);
  } else out.set(path, JSON.stringify(value) ?? String(value));
}

function configLeaves(run: RunFiles): Map<string, string> | undefined {
  if (run.configText === undefined) return undefined;
  try {
    const out = new Map<string, string>();
    flatten(parseYaml(run.configText), '', out);
    return out;
  } catch {
    return undefined;
  }
}

/** The sections of several runs drawn together: who they are, scores side by side, curves overlaid. */
function runsSections(
  runs: readonly LabelledRun[],
  charts: Chart[],
): { sections: Section[]; scoreCells: number } {
  const sections: Section[] = [];
  sections.push({
    id: 'runs',
    title: 'Runs',
    html: table(
      'runs',
      [
        { text: 'run' },
        { text: 'status' },
        { text: 'steps', numeric: true },
        { text: 'epochs', numeric: true },
        { text: 'best checkpoint' },
        { text: 'folder' },
      ],
      runs.map(({ label, run }) => {
        const last = run.metrics.at(-1);
        const steps = typeof run.summary?.steps === 'number' ? run.summary.steps : last?.step;
        const epochs = typeof run.summary?.epochs === 'number' ? run.summary.epochs : last?.epoch;
        return [
          { text: label },
          { text: runStatus(run).status },
          { text: steps === undefined ? '—' : String(steps), numeric: true },
          { text: epochs === undefined ? '—' : String(epochs), numeric: true },
          { text: run.best === undefined ? '—' : bestText(run) },
          { text: run.dir },
        ];
      }),
    ),
  });

  const pivot = scorePivot(runs.map((r) => ({ label: r.label, scores: r.run.scores })));
  const unscored = runs.filter((r) => r.run.scores === undefined).map((r) => r.label);
  sections.push({
    id: 'scores',
    title: 'Scores',
    html:
      note(
        'One table per metric: a row per task and dataset, a column group per run, a column per split; ' +
          'bold: the best run for that row and split.',
      ) +
      (unscored.length > 0 ? note(`No ${REPORT_FILES.scores} yet for: ${unscored.join(', ')}.`) : '') +
      pivot.html,
  });

  const curves = curveCharts(
    runs.map((r) => ({ label: r.label, metrics: r.run.metrics, best: r.run.best, watched: r.run.watched })),
  );
  charts.push(...curves);
  const unmarked = runs.filter((r) => r.run.best === undefined).map((r) => r.label);
  sections.push({
    id: 'curves',
    title: 'Learning curves',
    html:
      curves.length === 0
        ? note(`No ${REPORT_FILES.metrics} lines yet in any run.`)
        : note(
            'One chart per task, a panel per metric; colour: run, dash: split; the dashed vertical rule in a ' +
              "run's colour is the step where it saved best.ckpt" +
              (unmarked.length > 0 ? ` (none for: ${unmarked.join(', ')})` : '') +
              '. x: optimizer step (epoch in the tooltips).',
          ) +
          note(MODEL_LOSS_NOTE) +
          chartsHtml(curves),
  });

  const leaves = runs.map((r) => configLeaves(r.run));
  const known = runs.filter((_, i) => leaves[i] !== undefined);
  const paths = [...new Set(leaves.flatMap((l) => [...(l?.keys() ?? [])]))].sort();
  const differing = paths.filter(
    (p) => new Set(leaves.filter((l) => l !== undefined).map((l) => l.get(p))).size > 1,
  );
  sections.push({
    id: 'config',
    title: 'Configuration differences',
    html:
      known.length < 2
        ? note(`Fewer than two runs have a ${REPORT_FILES.config} to compare.`)
        : differing.length === 0
          ? note('The resolved configs are identical.')
          : table(
              'config-diff',
              [{ text: 'config path' }, ...known.map((r) => ({ text: r.label }))],
              differing.map((p) => [
                { text: p },
                ...leaves.filter((l) => l !== undefined).map((l) => ({ text: l.get(p) ?? '—' })),
              ]),
            ),
  });
  const vmtl = runs.filter((r) => r.run.mixing !== undefined).map((r) => r.label);
  if (vmtl.length > 0) {
    sections.push({
      id: 'mixing',
      title: 'Mixing weights',
      html: note(`α/β heatmaps are drawn on each run's own report (mtl report RUN_DIR): ${vmtl.join(', ')}.`),
    });
  }
  return { sections, scoreCells: pivot.cells };
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
  if (source.kind === 'runs') {
    kind = 'runs';
    name = source.name;
    dir = source.dir;
    const states = source.runs.map((r) => runStatus(r.run));
    inProgress = states.some((st) => st.inProgress);
    status = inProgress
      ? `${states.filter((st) => st.inProgress).length} of ${states.length} in progress`
      : 'finished';
    const built = runsSections(source.runs, charts);
    sections.push(...built.sections);
    scoreCount = built.scoreCells;
    metaLines = [source.runs.map((r) => r.label).join(' · ')];
  } else if (source.kind === 'run') {
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
          (soloDirs.length > 0
            ? note(
                `Solo runs: ${soloDirs.join('; ')}. mtl report DIR draws one; mtl report ${
                  source.multitask === undefined ? '' : 'MULTITASK_DIR '
                }SOLO_DIR ... overlays their learning curves and scores.`,
              )
            : ''),
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
    charts: charts.map((c) => ({
      id: c.id,
      section: c.section,
      title: c.title,
      rows: c.rows,
      ...(c.best === undefined ? {} : { best: c.best }),
    })),
    scoreCells: scoreCount,
  };
}

/** The gate heatmaps of a run with gated modules (`gates.json`): latest and evolution per module. */
function gateSections(
  run: RunFiles,
  id: (s: string) => string,
  title: (s: string) => string,
  charts: Chart[],
): Section[] {
  if (run.gates === undefined || run.gates.evaluations.length === 0) return [];
  const heatmaps = gateCharts(run.gates);
  charts.push(...heatmaps);
  return [
    {
      id: id('gates'),
      title: title('Gate weights'),
      html:
        note(
          'Mean gate weight of each expert per task (a row per gate, summing to 1) over the validation split, ' +
            'at the last evaluation, then at every evaluation (at most 12, evenly spaced) to show how routing evolved.',
        ) + chartsHtml(heatmaps),
    },
  ];
}

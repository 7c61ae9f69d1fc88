// mtl report's page for a run trained in the page: loaded on Download report only.
import {
  buildReportPage,
  type RunFiles,
  readBestCheckpoint,
  resolvedConfigText,
  watchedMetrics,
} from '@mtl/cli/browser';
import { joinUrl } from '@mtl/core';
import { CHECKPOINT_FILES } from '@mtl/training';
import { loadReportLibraries } from './report-files.js';
import type { PageRun } from './run.js';

/**
 * `mtl report`'s page for a run trained in the page (the same code and charts; the summary has
 * what a page knows: tasks, modules, backend, steps, epochs, stop reason).
 * @example
 * offer('report.html', await reportHtml(run));
 */
export async function reportHtml(run: PageRun): Promise<string> {
  const state = run.reportState();
  if (state === undefined) throw new Error('train a model to the end first');
  const { prepared, finished, history } = state;
  await loadReportLibraries();
  const configText = resolvedConfigText(prepared.loaded);
  const model = prepared.run;
  const best = await readBestCheckpoint(joinUrl(run.checkpointDir, CHECKPOINT_FILES.best), history);
  const files: RunFiles = {
    dir: '/page',
    name: prepared.loaded.name,
    ...best,
    watched: watchedMetrics(configText),
    configText,
    metrics: [...history],
    scores: finished.scores,
    summary: {
      tasks: model.taskNames,
      modules: model.moduleNames(),
      backend: run.backend,
      steps: finished.steps,
      epochs: finished.epochs,
      stopReason: finished.stopReason,
    },
    mixing: (model.mixing() ?? undefined) as RunFiles['mixing'],
    reconstructions: undefined,
    gates: (model.gates?.() ?? undefined) as RunFiles['gates'],
  };
  return buildReportPage({ kind: 'run', run: files }).html;
}

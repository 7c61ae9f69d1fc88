// Everything the first paint does not need: tfjs, the packages and the app's config code, loaded
// when the user validates or trains.
import {
  buildReportPage,
  configFromText,
  type Prepared,
  predict,
  prepareConfig,
  type RunFiles,
  readBestCheckpoint,
  resolvedConfigText,
  trainPrepared,
  watchedMetrics,
} from '@mtl/cli/browser';
import { joinUrl, listNames, MtlError, parseScoreKey, registerIOScheme, type ScoreKeyParts } from '@mtl/core';
import { CHECKPOINT_FILES, type HistoryRecord } from '@mtl/training';
import { activateBackend } from './backend.js';
import { type ChosenFile, placeDataFiles } from './files.js';
import { loadReportLibraries } from './report-files.js';
import { clearPageFiles, pageFileHandler, pageFileText, putPageFile } from './shims/page-files.js';

// A path (`/run/model`) is one of the page's files: how `mtl predict`'s code loads a chosen model.
registerIOScheme('file', pageFileHandler);

export type { ChosenFile };
export { activateBackend, configFromText };

/** The rows of the score table: each score key parsed by @mtl/core (the one place keys are read). */
export function scoreRows(scores: Record<string, number>): (ScoreKeyParts & { value: number })[] {
  return Object.entries(scores).map(([key, value]) => ({ ...parseScoreKey(key), value }));
}

/** One point of a learning curve. */
export interface CurvePoint {
  epoch: number;
  metric: string;
  value: number;
}

/** A page's training: prepared once, trained, stopped and resumed. */
export class PageRun {
  private prepared: Prepared | undefined;
  private controller: AbortController | undefined;
  private started = false;
  // A path among the page's files (the file storage scheme below): the report reads the best
  // checkpoint there as mtl report reads a run's.
  readonly checkpointDir = `/page/run-${Date.now()}/checkpoints`;
  backend = '';
  /** Why each better backend was passed over (`auto`). */
  skippedBackends: string[] = [];
  /** The history records (epoch ends, evaluations), as metrics.jsonl holds them after a resume. */
  private readonly history: HistoryRecord[] = [];
  private finished:
    | { scores: Record<string, number>; steps: number; epochs: number; stopReason: string }
    | undefined;

  constructor(
    private readonly text: string,
    private readonly requestedBackend: string,
    private readonly onPoint: (p: CurvePoint) => void,
    /** The data files the user chose, matched to the config's csv sources by name. */
    private readonly dataFiles: readonly ChosenFile[] = [],
  ) {}

  /** Trains to the end (or until {@link stop}); resumes from the last checkpoint after a stop. */
  async train(): Promise<{ scores: Record<string, number>; stopped: boolean }> {
    // Made first, so that a Stop while the data and model are being prepared counts.
    this.controller = new AbortController();
    if (this.prepared === undefined) {
      const loaded = configFromText(this.text, 'page.yaml');
      placeDataFiles(loaded.config, loaded.file, this.dataFiles);
      const active = await activateBackend(this.requestedBackend);
      this.backend = active.name;
      this.skippedBackends = active.skipped;
      this.prepared = await prepareConfig(loaded, this.backend);
    }
    const resume = this.started;
    this.started = true;
    const report = (record: { epoch: number; metrics: Record<string, number> }) => {
      for (const [metric, value] of Object.entries(record.metrics)) {
        if (metric.endsWith('/loss') && metric.startsWith('model/all/'))
          this.onPoint({ epoch: record.epoch, metric, value });
      }
    };
    const result = await trainPrepared(this.prepared, {
      signal: this.controller.signal,
      checkpointDir: this.checkpointDir,
      ...(resume ? { resumeFrom: `${this.checkpointDir}/last.ckpt` } : {}),
      callbacks: [
        {
          onLog: (record: HistoryRecord) => {
            // A resumed run logs the steps after its checkpoint again: the later record wins.
            while (this.history.length > 0 && this.history.at(-1)!.step >= record.step) this.history.pop();
            this.history.push(record);
          },
          onEpochEnd: report,
          onEvaluate: (record, scores) => report({ epoch: record.epoch, metrics: scores }),
          // Lets the page handle a click (Stop) between steps.
          onStepEnd: () => new Promise<void>((r) => setTimeout(r, 0)),
        },
      ],
    });
    if (!result.stopped) this.finished = result;
    return result;
  }

  /**
   * `mtl report`'s page for this run (the same code and charts; the summary has what a page
   * knows: tasks, modules, backend, steps, epochs, stop reason).
   */
  async reportHtml(): Promise<string> {
    const prepared = this.prepared;
    const finished = this.finished;
    if (prepared === undefined || finished === undefined) throw new Error('train a model first');
    await loadReportLibraries();
    const configText = resolvedConfigText(prepared.loaded);
    const { run } = prepared;
    const best = await readBestCheckpoint(joinUrl(this.checkpointDir, CHECKPOINT_FILES.best), this.history);
    const files: RunFiles = {
      dir: '/page',
      name: prepared.loaded.name,
      ...best,
      watched: watchedMetrics(configText),
      configText,
      metrics: this.history,
      scores: finished.scores,
      summary: {
        tasks: run.taskNames,
        modules: run.moduleNames(),
        backend: this.backend,
        steps: finished.steps,
        epochs: finished.epochs,
        stopReason: finished.stopReason,
      },
      mixing: (run.mixing() ?? undefined) as RunFiles['mixing'],
      reconstructions: undefined,
      gates: (run.gates?.() ?? undefined) as RunFiles['gates'],
    };
    return buildReportPage({ kind: 'run', run: files }).html;
  }

  /**
   * Saves the trained model in the saved format (`indexeddb://name`, `downloads://name`): the
   * same bytes as `model/model.mtl` of a Node run.
   */
  async saveModel(url: string): Promise<void> {
    const model = this.prepared?.run.trainable as { save?: (url: string) => Promise<void> } | undefined;
    if (model?.save === undefined) throw new Error('train a model first');
    await model.save(url);
  }

  stop(): void {
    this.controller?.abort();
  }

  dispose(): void {
    this.prepared?.run.dispose();
  }
}

/** A file the user chose, as bytes (a model) or text. */
export interface ChosenBytes {
  name: string;
  bytes: Uint8Array;
}

/** Where a run's files go: the layout `mtl train` writes and `mtl predict` reads. */
const RUN_DIR = '/run';
const RUN_LAYOUT: Record<string, string> = {
  'config.resolved.yaml': `${RUN_DIR}/config.resolved.yaml`,
  'model.mtl': `${RUN_DIR}/model/model.mtl`,
  'preprocessing.json': `${RUN_DIR}/model/preprocessing.json`,
};

/**
 * Predicts one task of a run trained by `mtl train` (or in a page) for every row of a CSV, with
 * `mtl predict`'s own code: the run's files (`config.resolved.yaml`, `model.mtl`, and
 * `preprocessing.json` when the run has one) and the data files its config reads are placed where
 * that code reads them. Returns the CSV `mtl predict --output x.csv` writes.
 * @example
 * const csv = await predictInPage({ runFiles, dataFiles, input, task: 'status', backend: 'wasm' });
 */
export async function predictInPage(options: {
  runFiles: readonly ChosenBytes[];
  dataFiles: readonly ChosenFile[];
  input: ChosenFile;
  task?: string;
  backend: string;
}): Promise<{ csv: string; task: string; backend: string; skippedBackends: string[] }> {
  clearPageFiles(RUN_DIR);
  for (const f of options.runFiles) {
    const at = RUN_LAYOUT[f.name];
    if (at === undefined) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `"${f.name}" is not a run file (choose ${listNames(Object.keys(RUN_LAYOUT))} from the run folder and its model/ folder)`,
        { place: 'run files' },
      );
    }
    putPageFile(at, f.bytes);
  }
  for (const name of ['config.resolved.yaml', 'model.mtl']) {
    if (!options.runFiles.some((f) => f.name === name)) {
      throw new MtlError('FILE_NOT_FOUND', `choose the run's ${name}`, { place: 'run files' });
    }
  }
  const configFile = RUN_LAYOUT['config.resolved.yaml']!;
  const loaded = configFromText(pageFileText(configFile)!, configFile);
  placeDataFiles(loaded.config, configFile, options.dataFiles);
  const task = options.task || Object.keys(loaded.config.tasks)[0]!;
  const input = `/input/${options.input.name}`;
  clearPageFiles('/input');
  putPageFile(input, options.input.text);
  const output = '/out/predictions.csv';
  const active = await activateBackend(options.backend);
  await predict({ runDir: RUN_DIR, task, input, output, activeBackend: active.name });
  return { csv: pageFileText(output)!, task, backend: active.name, skippedBackends: active.skipped };
}

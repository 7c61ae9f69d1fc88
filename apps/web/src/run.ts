// Everything the first paint does not need: tfjs, the packages and the app's config code, loaded
// when the user validates or trains.
import {
  configFromText,
  type Prepared,
  prepareConfig,
  preprocessingFileText,
  trainPrepared,
} from '@mtl/cli/browser';
import { parseScoreKey, type ScoreKeyParts } from '@mtl/core';
import type { HistoryRecord } from '@mtl/training';
import { activateBackend } from './backend.js';
import { type ChosenFile, placeDataFiles } from './files.js';
import './page-io.js';

export type { ChosenFile };
export { activateBackend, configFromText };

/** The rows of the score table: each score key parsed by @mtl/core (the one place keys are read). */
export function scoreRows(scores: Record<string, number>): (ScoreKeyParts & { value: number })[] {
  return Object.entries(scores).map(([key, value]) => ({ ...parseScoreKey(key), value }));
}

/**
 * Gives the browser a turn (input events such as Stop) between training steps. A message, not
 * `setTimeout(0)`, which the browser stretches to 4 ms once nested: 4 ms a step.
 */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
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
          onStepEnd: (info: { step: number }) => {
            this.onStep?.(info.step);
            return yieldToPage();
          },
        },
      ],
    });
    if (!result.stopped) this.finished = result;
    return result;
  }

  /** What a report of this run is made of (report.ts), once it trained to the end. */
  reportState():
    | {
        prepared: Prepared;
        finished: { scores: Record<string, number>; steps: number; epochs: number; stopReason: string };
        history: readonly HistoryRecord[];
      }
    | undefined {
    const { prepared, finished } = this;
    return prepared === undefined || finished === undefined
      ? undefined
      : { prepared, finished, history: this.history };
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

  /**
   * The preprocessing.json of the trained model (its scalers and vocabularies, fitted on the train
   * split), which `mtl predict` reads beside model.mtl; `undefined` when the run fitted none.
   */
  preprocessingText(): string | undefined {
    return this.prepared === undefined ? undefined : preprocessingFileText(this.prepared.preprocessing);
  }

  /** Called after every training step with its number (1-based), before the page's turn. */
  onStep: ((step: number) => void) | undefined;

  stop(): void {
    this.controller?.abort();
  }

  dispose(): void {
    this.prepared?.run.dispose();
  }
}

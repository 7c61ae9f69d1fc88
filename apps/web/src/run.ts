// Everything the first paint does not need: tfjs, the packages and the app's config code, loaded
// when the user validates or trains.
import { configFromText, type Prepared, prepareConfig, trainPrepared } from '@mtl/cli/browser';
import { parseScoreKey, type ScoreKeyParts } from '@mtl/core';
import { activateBackend } from './backend.js';

export { configFromText };

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
  readonly checkpointDir = `memory://page-${Date.now()}`;
  backend = '';

  constructor(
    private readonly text: string,
    private readonly requestedBackend: string,
    private readonly onPoint: (p: CurvePoint) => void,
  ) {}

  /** Trains to the end (or until {@link stop}); resumes from the last checkpoint after a stop. */
  async train(): Promise<{ scores: Record<string, number>; stopped: boolean }> {
    // Made first, so that a Stop while the data and model are being prepared counts.
    this.controller = new AbortController();
    if (this.prepared === undefined) {
      this.backend = await activateBackend(this.requestedBackend);
      this.prepared = await prepareConfig(configFromText(this.text, 'page.yaml'), this.backend);
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
          onEpochEnd: report,
          onEvaluate: (record, scores) => report({ epoch: record.epoch, metrics: scores }),
          // Lets the page handle a click (Stop) between steps.
          onStepEnd: () => new Promise<void>((r) => setTimeout(r, 0)),
        },
      ],
    });
    return result;
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

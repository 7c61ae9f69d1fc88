import type { HistoryRecord, StepEndInfo, TrainBeginInfo, TrainerCallbacks } from '@mtl/training';
import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** Where lines go (default stdout). */
  write?: (line: string) => void;
  /** A live bar (a terminal) or plain periodic lines (CI, pipes). Default: bar when stdout is a TTY and CI is unset. */
  bar?: boolean;
  /** Silence everything. */
  quiet?: boolean;
}

function fmt(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4);
}

/**
 * Training progress for the console: a progress bar on a terminal, otherwise a plain line at each
 * evaluation (and at most every 10% of steps), so CI logs stay readable.
 */
export function progressReporter(options: ProgressOptions = {}): TrainerCallbacks {
  if (options.quiet) return {};
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const useBar = options.bar ?? (Boolean(process.stdout.isTTY) && !process.env.CI);
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let epochs = 0;
  let lastPrinted = 0;
  return {
    onTrainBegin(info: TrainBeginInfo) {
      total = info.totalSteps;
      epochs = Math.ceil(total / info.batchesPerEpoch);
      if (useBar) {
        bar = new cliProgress.SingleBar(
          { format: 'train [{bar}] {value}/{total} steps | epoch {epoch} | loss {loss}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, info.step, { epoch: `${info.epoch}/${epochs}`, loss: '-' });
      } else {
        write(
          `training: ${total} steps, ${info.batchesPerEpoch} per epoch${info.resumed ? `, resumed at step ${info.step}` : ''}`,
        );
      }
      lastPrinted = info.step;
    },
    onStepEnd(info: StepEndInfo) {
      // `epoch` everywhere (console, metrics.jsonl, summary.json, checkpoints) = epochs completed.
      if (bar) bar.update(info.step, { epoch: `${info.epoch}/${epochs}`, loss: fmt(info.loss) });
      else if (info.step - lastPrinted >= Math.max(1, Math.ceil(total / 10))) {
        lastPrinted = info.step;
        write(
          `step ${info.step}/${total} epoch ${info.epoch}/${epochs} loss ${fmt(info.loss)} lr ${info.lr.toPrecision(3)}`,
        );
      }
    },
    onEvaluate(record: HistoryRecord, scores: Record<string, number>) {
      const shown = Object.entries(scores)
        // The conflict monitor's numbers stay in metrics.jsonl and conflict.json.
        .filter(([k]) => !k.startsWith('conflict/') && (!k.endsWith('/loss') || k.startsWith('model/')))
        .slice(0, 6)
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join(' ');
      // On a terminal the bar is the progress; evaluations are printed only in plain mode, and
      // only when there is a score to show (a run without a valid split evaluates nothing).
      if (!bar && shown !== '') write(`eval step ${record.step} epoch ${record.epoch}/${epochs}: ${shown}`);
    },
    onTrainEnd() {
      bar?.stop();
    },
  };
}

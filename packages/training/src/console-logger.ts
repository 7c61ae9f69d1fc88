import type { TrainerCallbacks } from './callbacks.js';

/**
 * Options of {@link consoleLogger}.
 * @example
 * const options: ConsoleLoggerOptions = { everySteps: 100, digits: 3 };
 */
export interface ConsoleLoggerOptions {
  /** Also print a progress line every this many steps (0: never). Default 0. */
  everySteps?: number;
  /** Where lines go; default `console.log`. */
  write?: (line: string) => void;
  /** Significant digits of printed numbers; default 4. */
  digits?: number;
}

/**
 * A progress hook printing one line per history record (epoch end or evaluation) and, optionally,
 * one every N steps.
 * @example
 * await trainer.fit(model, { train, callbacks: [consoleLogger({ everySteps: 100 })] });
 * // epoch 1 step 25 | model/all/train/loss 0.6931 | model/all/train/lr 0.01 | ...  (epoch: epochs completed)
 */
export function consoleLogger(options: ConsoleLoggerOptions = {}): TrainerCallbacks {
  const write = options.write ?? ((line: string) => console.log(line));
  const digits = options.digits ?? 4;
  const every = options.everySteps ?? 0;
  const fmt = (x: number) => String(Number(x.toPrecision(digits)));
  return {
    onTrainBegin: (info) =>
      write(
        `${info.resumed ? 'resuming' : 'training'} at step ${info.step} (epoch ${info.epoch}) of ${info.totalSteps}, ${info.batchesPerEpoch} batches per epoch`,
      ),
    onStepEnd: (info) => {
      if (every > 0 && info.step % every === 0) {
        write(`epoch ${info.epoch} step ${info.step} | loss ${fmt(info.loss)} | lr ${fmt(info.lr)}`);
      }
    },
    onLog: (record) => {
      const parts = Object.entries(record.metrics).map(([k, v]) => `${k} ${fmt(v)}`);
      write([`epoch ${record.epoch} step ${record.step}`, ...parts].join(' | '));
    },
    onTrainEnd: (result) => write(`stopped (${result.stopReason}) at step ${result.step}`),
  };
}

import type { HistoryRecord, TrainerCallbacks } from '@mtl/training';
import * as tf from '@tensorflow/tfjs';

/** Tensors alive and resident memory at the end of each epoch. */
export interface MemorySample {
  epoch: number;
  numTensors: number;
  rssMb: number;
}

/**
 * A trainer callback that samples `tf.memory().numTensors` and the process RSS at every epoch end
 * (for leak tests and `npm run soak`).
 * @example
 * const probe = memoryProbe();
 * await train({ config, extraCallbacks: [probe.callbacks] });
 * probe.samples; // [{epoch: 1, numTensors: 42, rssMb: 180.5}, ...]
 */
export function memoryProbe(): { callbacks: TrainerCallbacks; samples: MemorySample[] } {
  const samples: MemorySample[] = [];
  return {
    samples,
    callbacks: {
      onEpochEnd(record: HistoryRecord) {
        samples.push({
          epoch: record.epoch + 1,
          numTensors: tf.memory().numTensors,
          rssMb: process.memoryUsage().rss / 2 ** 20,
        });
      },
    },
  };
}

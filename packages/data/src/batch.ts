import type { Batch, StepBatches } from '@mtl/core';

// Declared once in @mtl/core; re-exported for `import type { Batch } from '@mtl/data'`.
export type { Batch, StepBatches };

/**
 * Disposes every tensor of a batch (or of each batch of a step).
 * @example
 * for (const batch of loader) { use(batch); disposeBatch(batch); }
 */
export function disposeBatch(batch: Batch | StepBatches): void {
  const all = Array.isArray(batch) ? batch : [batch];
  for (const b of all) {
    for (const t of Object.values(b.X)) t.dispose();
    for (const t of Object.values(b.Y)) t.dispose();
  }
}

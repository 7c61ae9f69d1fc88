import type { BatchSource } from '@mtl/core';

// Declared once in @mtl/core (docs/CONTRACTS.md); every loader and scheduler of this package
// implements it for `StepBatches`. Re-exported for `import type { BatchSource } from '@mtl/data'`.
export type { BatchSource };

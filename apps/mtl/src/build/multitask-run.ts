// The multitask run adapter moved to @mtl/tasks (packages/tasks/src/multitask-run.ts); this file
// stays while vmtl-run.ts (being moved into @mtl/variational on another branch) still imports
// MODEL_FILE from here. Delete it with that move.
export { MODEL_FILE } from '@mtl/tasks';

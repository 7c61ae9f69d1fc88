// The row helpers moved to @mtl/tasks; this file stays while vmtl-run.ts (being moved into
// @mtl/variational on another branch) still imports them from here.
export { allRows, describeInputs, firstRows } from '@mtl/tasks';

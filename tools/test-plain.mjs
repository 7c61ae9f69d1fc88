// `npm run test:plain` (the last step of `npm test`): the test projects whose code path depends on
// @mtl/native run once more with MTL_NATIVE=0, i.e. on tfjs's own wasm kernels and the JavaScript
// update rules, so CI covers both paths. Without the built addon the main run already took that
// path: nothing to repeat. The results go to reports/vitest-plain.json (CI's summary adds them).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Where the native kernels or update rules change what runs: the optimizer's host rules and the
// trainer (training), the dense and loss ops of the task models (tasks). Core's op tests check the
// ops against their own formulas on either path; the native package's tests install and remove
// the kernels themselves. Only the files that exercise those paths (CI time is budgeted): the
// optimizer's update rules, the trainer's step (plain, aggregated, accumulated, per-group learning
// rates, representation gradients), resume, and the task models' dense/loss forward and backward.
const PROJECTS = ['@mtl/training', '@mtl/tasks'];
const FILES = [
  'packages/training/src/optimizer.test.ts',
  'packages/training/src/trainer.test.ts',
  'packages/training/src/trainer-aggregator.test.ts',
  'packages/training/src/accumulate.test.ts',
  'packages/training/src/group-lr.test.ts',
  'packages/training/src/representation.test.ts',
  'packages/training/src/resume.test.ts',
  'packages/training/src/clip.test.ts',
  'packages/tasks/src/multitask-model.test.ts',
  'packages/tasks/src/parameter-groups.test.ts',
];
const report = join(root, 'reports', 'vitest-plain.json');
rmSync(report, { force: true });
if (!existsSync(join(root, 'packages', 'native', 'build', 'mtl_native.node'))) {
  console.log('test:plain: skipped (@mtl/native is not built: the tests above ran on tfjs kernels)');
  process.exit(0);
}
console.log(
  `test:plain: ${FILES.length} files of ${PROJECTS.join(', ')} again with MTL_NATIVE=0 (tfjs kernels)`,
);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', ...PROJECTS.flatMap((p) => ['--project', p]), ...FILES, `--outputFile.json=${report}`],
  { cwd: root, stdio: 'inherit', env: { ...process.env, MTL_NATIVE: '0' } },
);
process.exit(run.status ?? 1);

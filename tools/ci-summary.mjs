// Prints the last line CI reads: "N passed, N failed" from vitest's JSON reports (the main run's,
// then any further ones, e.g. `npm run test:plain`'s reports/vitest-plain.json, when present).
// When the tests never ran (lint or type errors stop `npm test` first) the run counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const [file = 'reports/vitest.json', rcText = '0', ...more] = process.argv.slice(2);
const rc = Number(rcText);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(file)) {
  for (const f of [file, ...more.filter((m) => existsSync(m))]) {
    const report = JSON.parse(readFileSync(f, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  }
  if (rc !== 0 && failed === 0) failed = 1;
} else if (rc !== 0) {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);

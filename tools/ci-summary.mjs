// Prints the last line CI reads: "N passed, N failed" from vitest's JSON report.
// When the tests never ran (lint or type errors stop `npm test` first) the run counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const [file = 'reports/vitest.json', rcText = '0'] = process.argv.slice(2);
const rc = Number(rcText);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(file)) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (rc !== 0 && failed === 0) failed = 1;
} else if (rc !== 0) {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);

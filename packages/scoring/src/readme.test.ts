// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

it('README example runs as printed and prints what its comments say', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result] = await runReadmeExamples(new URL('../README.md', import.meta.url));
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  expect(result!.stdout).toBe(`{
  accuracy: 0.8,
  coverage: 1,
  f1: 0.8,
  'fbeta@2': 0.7142857142857143,
  roc_auc: 1
}
task         dataset        split  metric     value
circle_task  circleDataset  valid  accuracy  0.8000
circle_task  circleDataset  valid  coverage  1.0000
circle_task  circleDataset  valid  f1        0.8000
circle_task  circleDataset  valid  fbeta@2   0.7143
circle_task  circleDataset  valid  roc_auc   1.0000
{
  accuracy: 0.6666666666666666,
  coverage: 1,
  f1: 0.6666666666666666,
  'fbeta@2': 0.5555555555555556,
  roc_auc: 1
}
0.25000000000000006 { circle_task: 0.25000000000000006 }
{ error_rate: 0.25 }
`);
});

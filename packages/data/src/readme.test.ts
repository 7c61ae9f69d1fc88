// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

it('README example runs as printed and prints what its comments say', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result] = await runReadmeExamples(new URL('../README.md', import.meta.url));
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  expect(result!.lines).toEqual([
    '50',
    '1600',
    '30',
    'task1Dataset task2Dataset task3Dataset',
    "{ circle_data: [ 'circle_data_0', 'circle_data_1' ] }",
    '100',
  ]);
});

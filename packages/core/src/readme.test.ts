// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

// Both examples run once, together.
let examples: ReturnType<typeof runReadmeExamples> | undefined;
const runExamples = () => {
  examples ??= runReadmeExamples(new URL('../README.md', import.meta.url));
  return examples;
};

it('README example runs as printed, on the best backend, without a tfjs banner', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result] = await runExamples();
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  const expected = process.env.MTL_BACKEND?.trim() || autoBackend();
  expect(result!.lines).toEqual([
    `${expected} ${expected === 'node' ? 'tensorflow' : expected}`,
    '[ 1, 3, 2, 4, 0 ]',
    'DATA_NON_FINITE data/train.csv:12 column "x1": value is NaN',
    'demo { units: 2 } Float32Array(2) [ 0.5, -1 ]',
  ]);
});

it('README ops example runs as printed: the cross-entropy of two labeled rows and a clean gradient check', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [, result] = await runExamples();
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  expect(result!.lines).toEqual(['0.1513', '[] true']);
});

/** What `auto` picks here: tfjs-node when it is installed, else wasm. */
function autoBackend(): string {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return 'node';
  } catch {
    return 'wasm';
  }
}

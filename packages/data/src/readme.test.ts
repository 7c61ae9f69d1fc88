// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';
import { FASHION_MNIST_PACKAGE, fashionMnistAvailable } from './read-fashion-mnist.js';

it('README example runs as printed and prints what its comments say', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result, tables, images] = await runReadmeExamples(new URL('../README.md', import.meta.url));
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
  // The second example: ranges, categorical and text columns, scaling fitted on train.
  expect(scriptErrors(tables!)).toBe('');
  expect(tables!.code).toBe(0);
  expect(tables!.lines.slice(0, 3)).toEqual([
    '[ 4 ]',
    '[ 3, 2, 1, 0 ]',
    "{ kind: 'categorical', tokens: [ 'north', 'south' ] }",
  ]);
  // Prices are 300..399 in the file: a wrong inverse of the scaler lands near 0.
  const price = Number(tables!.lines[3]);
  expect(Number.isInteger(price)).toBe(true);
  expect(price).toBeGreaterThanOrEqual(300);
  expect(price).toBeLessThan(400);
  // The third: Fashion-MNIST from Debian's package (where it is absent, the error says so).
  if (fashionMnistAvailable()) {
    expect(scriptErrors(images!)).toBe('');
    expect(images!.lines).toEqual([
      '60000 10000 ankle boot',
      'uint8 [ 5 ]',
      "[ 324 ] [ 'left', 'right' ]",
      'original 50/1000, rotated 50/1000, inverted 50/1000, noisy 50/1000',
    ]);
  } else {
    expect(images!.code).not.toBe(0);
    expect(images!.stderr).toContain(`install Debian's ${FASHION_MNIST_PACKAGE}`);
  }
});

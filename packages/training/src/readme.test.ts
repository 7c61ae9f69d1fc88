// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

it('README examples run as printed: trains to the weighted minimum, checkpoints, resumes; an aggregator; weighting methods', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result, aggregator, weighting] = await runReadmeExamples(new URL('../README.md', import.meta.url));
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  const text = result!.stdout;
  const fit = /^completed 160 \[ (\S+), (\S+) \]$/m.exec(text);
  expect(fit).not.toBeNull();
  expect(Number(fit![1])).toBeCloseTo(2.5, 1);
  expect(Number(fit![2])).toBeCloseTo(-0.5, 1);
  expect(text.slice(text.indexOf('\n') + 1)).toBe(`[
  'model/all/train/loss',
  'far/toy/train/loss',
  'near/toy/train/loss',
  'model/all/train/objective',
  'model/all/train/lr',
  'model/all/valid/distance'
]
true
40
200 50
`);
  // The aggregator example: the update of s computed by hand in its comment.
  expect(scriptErrors(aggregator!)).toBe('');
  expect(aggregator!.stdout).toBe('[ 0.25, -0.25 ] 0 0\n17 0\n');
  expect(scriptErrors(weighting!)).toBe('');
  expect(weighting!.code).toBe(0);
  expect(weighting!.stdout).toBe(`mgda    0.080 0.560 0.000 | 0.320 0.320
pcgrad  0.400 2.200 0.000 | 1.600 1.000
upgrad  0.200 1.100 0.000 | 0.800 0.500
nashMtl 0.227 1.396 0.000 | 0.906 0.716
22 loss
CONFIG_INVALID training.weighting.lr: Too small: expected number to be >0 (method famo)
`);
});

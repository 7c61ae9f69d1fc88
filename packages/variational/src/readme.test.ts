// The README's examples, run as a newcomer runs them: each code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

it('README examples run as printed: VMTL learns that a and b are related; the ELBO pieces; the run protocol', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [vmtl, elbo, run, ...more] = await runReadmeExamples(new URL('../README.md', import.meta.url));
  expect(more).toEqual([]);
  for (const result of [vmtl!, elbo!, run!]) {
    expect(scriptErrors(result)).toBe('');
    expect(result.code).toBe(0);
  }
  const [accuracies, alphas, reloaded, ...rest] = vmtl!.lines;
  expect(rest).toEqual([]);
  // Saved and loaded through memory://: the same scores, number for number.
  expect(reloaded).toBe('true');
  for (const accuracy of accuracies!.split(' ')) expect(Number(accuracy)).toBeGreaterThan(0.8);
  // Tasks a and b have almost the same true weights, c is unrelated: a and b lean on each other.
  for (const alpha of alphas!.split(' ')) expect(Number(alpha)).toBeGreaterThan(0.8);
  expect(elbo!.lines).toEqual(['0.4431 2']);
  // buildVmtlRun from options, trained by @mtl/training's Trainer: the seed example's numbers.
  const [runAccuracies, alpha12, runReloaded, predicted, ...runRest] = run!.lines;
  expect(runRest).toEqual([]);
  for (const accuracy of runAccuracies!.split(' ')) expect(Number(accuracy)).toBeGreaterThan(0.7);
  expect(Number(alpha12)).toBeGreaterThanOrEqual(0.65);
  expect(runReloaded).toBe('true');
  expect(predicted).toMatch(/^120 [01]{5}$/);
});

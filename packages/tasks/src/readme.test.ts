// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

it('README examples (the Snorkel tutorial, the pool, the run protocol) run as printed: shared trunk, trained, saved, reloaded', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result, poolExample, runExample, unitsExample, sliceExample, ...others] = await runReadmeExamples(
    new URL('../README.md', import.meta.url),
  );
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  const [modules, accuracy, validLoss, preds, ...rest] = result!.lines;
  expect(modules).toBe("[ 'base_mlp', 'circle_head', 'square_head' ]");
  expect(Number(accuracy)).toBeGreaterThanOrEqual(0.9);
  expect(Number(validLoss)).toBeGreaterThan(0);
  expect(Number(validLoss)).toBeLessThan(0.5);
  expect(preds).toMatch(/^\[ [01], [01], [01], [01], [01] \]$/);
  expect(rest).toEqual([]);
  // The ModulePool example: sharing, freezing, and a warm start's report.
  expect(scriptErrors(poolExample!)).toBe('');
  expect(poolExample!.lines).toEqual([
    '["trunk","a_head","b_head"] 27',
    '["pool/a_head/kernel","pool/a_head/bias","pool/b_head/kernel","pool/b_head/bias"]',
    '{"reused":["trunk"],"reshaped":["a_head"],"new":[],"dropped":["b_head"]}',
  ]);
  // The run protocol: built from options, trained by @mtl/training's Trainer, saved, reloaded.
  expect(scriptErrors(runExample!)).toBe('');
  expect(runExample!.code).toBe(0);
  const [runAccuracy, sameScores, runPreds, ...runRest] = runExample!.lines;
  expect(Number(runAccuracy)).toBeGreaterThanOrEqual(0.9);
  expect(sameScores).toBe('true');
  expect(runPreds).toMatch(/^\[ [01], [01], [01], [01], [01] \] 2$/);
  expect(runRest).toEqual([]);
  // A regression scaled for training, scored and predicted in its own units (no app).
  expect(scriptErrors(unitsExample!)).toBe('');
  expect(unitsExample!.code).toBe(0);
  const [mseR2, losses, row, ...unitsRest] = unitsExample!.lines;
  const [mse, r2] = mseR2!.split(' ').map(Number);
  expect(mse).toBeGreaterThan(3); // k€²: the noise alone is 4; standardised targets would give ~0.003
  expect(mse).toBeLessThan(12);
  expect(r2).toBeGreaterThan(0.99);
  expect(losses).toBe('true true');
  const [pred, truth] = row!.split(' ').map(Number);
  expect(Math.abs(pred! - truth!)).toBeLessThan(10);
  expect(truth).toBeGreaterThan(100);
  expect(unitsRest).toEqual([]);
  // Slicing functions and the slice-aware model, trained by the Trainer and scored per slice.
  expect(scriptErrors(sliceExample!)).toBe('');
  expect(sliceExample!.code).toBe(0);
  const [sliceTasks, sliceScores, ...sliceRest] = sliceExample!.lines;
  expect(sliceTasks).toBe('y y.ind.base y.ind.corner y.pred.base y.pred.corner');
  const [corner, overall] = sliceScores!.split(' ');
  expect(Number(corner) * 44).toBeCloseTo(Math.round(Number(corner) * 44), 6); // a share of the 44 corner rows
  expect(Number(corner)).toBeGreaterThan(0.9); // measured: 1
  expect(overall).toBe('true');
  expect(sliceRest).toEqual([]);
  expect(others).toEqual([]);
});

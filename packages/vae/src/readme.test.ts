// The README's example, run as a newcomer runs it: the code block verbatim, `npx tsx`, built dist/.
import { expect, it } from 'vitest';
import { README_TIMEOUT_MS, runReadmeExamples, scriptErrors } from '../../../tools/readme-examples.js';

it('README examples run as printed: a shared-latent VAE reconstructs and samples; the run protocol from options', {
  timeout: README_TIMEOUT_MS,
}, async () => {
  const [result, runExample] = await runReadmeExamples(new URL('../README.md', import.meta.url));
  expect(scriptErrors(result!)).toBe('');
  expect(result!.code).toBe(0);
  const [scores, shapes, samples, ...rest] = result!.lines;
  expect(rest).toEqual([]);
  const [mse, active] = scores!.split(' ').map(Number);
  expect(mse).toBeGreaterThan(0);
  expect(mse).toBeLessThan(0.15);
  expect(active).toBe(2);
  expect(shapes).toBe('[ 500, 16 ] [ 500, 2 ] [ 500, 2 ]');
  expect(samples).toBe('[ 10, 2 ] [ 10, 16 ]');
  // The run protocol: built from options, trained by @mtl/training's Trainer, saved, reloaded.
  expect(scriptErrors(runExample!)).toBe('');
  expect(runExample!.code).toBe(0);
  const [runMse, modules, same, predicted, ...runRest] = runExample!.lines;
  expect(Number(runMse)).toBeGreaterThan(0);
  expect(Number(runMse)).toBeLessThan(0.15);
  expect(modules).toBe("[ 'encoder', 'domain1.decoder', 'domain2.decoder' ]");
  expect(same).toBe('true');
  expect(predicted).toBe("200 [ 'z_mean_0', 'z_mean_1' ]");
  expect(runRest).toEqual([]);
});

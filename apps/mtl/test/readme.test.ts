import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, EXAMPLES, tempDir, writeConfig } from './helpers.js';

it("the README's config validates and is the snorkel-basics example's", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const yaml = readme.split('```yaml\n')[1]!.split('```')[0]!;
  const file = writeConfig(yaml, 'readme.yaml', tempDir());
  const r = await cli('validate', file);
  expect(r.err).toBe('');
  expect(r.out).toContain(
    'task circle_task: circleDataset [circle_data] -> circle_task (train 800, valid 100, test 100)',
  );
  const own = await cli('validate', join(EXAMPLES, 'snorkel-basics.yaml'));
  expect(own.out.split('\n').slice(1)).toEqual(r.out.split('\n').slice(1));
});

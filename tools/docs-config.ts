// `npm run docs:config`: regenerates apps/mtl/CONFIG.md, the reference of every config option,
// from the zod schemas (apps/mtl/src/config/schema.ts and the package schemas it composes) and the
// descriptions in apps/mtl/src/config/descriptions.ts. `--check` only reports whether it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from '../apps/mtl/src/config/reference.js';

const target = fileURLToPath(new URL('../apps/mtl/CONFIG.md', import.meta.url));
let text: string;
try {
  text = renderConfigReference();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
let current = '';
try {
  current = readFileSync(target, 'utf8');
} catch {}
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error('apps/mtl/CONFIG.md is out of date: run `npm run docs:config`');
    process.exit(1);
  }
  console.log('apps/mtl/CONFIG.md is up to date');
} else {
  writeFileSync(target, text);
  console.log(`apps/mtl/CONFIG.md: ${text.split('\n').filter((l) => l.startsWith('| `')).length} options`);
}

// Runs README examples the way a newcomer runs them: the code block, unchanged, in a .ts file
// inside the repository, started with `npx tsx` in a child process, importing the packages'
// built dist/ (no `source` condition, no vitest). Used by every package's src/readme.test.ts.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleProjects } from '../apps/mtl/bin/built.mjs';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A README test may first have to build stale packages (minutes on a loaded machine). */
export const README_TIMEOUT_MS = 900_000;

/** What a script printed, and how it ended. */
export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout split into lines, without the trailing empty line. */
  lines: string[];
}

/**
 * The runnable examples of a README: every ```ts block that imports an @mtl package, verbatim.
 * (Blocks that only show an interface or a signature import nothing and are not run.)
 * @example
 * const [code] = readmeExamples(readFileSync('packages/core/README.md', 'utf8'));
 */
export function readmeExamples(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.filter((code) => /^import [^;]* from '@mtl\/[a-z-]+[^']*';$/m.test(code));
}

function allPackageProjects(): string[] {
  return readdirSync(join(REPO_ROOT, 'packages'))
    .map((name) => join(REPO_ROOT, 'packages', name, 'tsconfig.build.json'))
    .filter((file) => existsSync(file));
}

/** The lock's process is gone (killed mid-build), or the lock is older than an hour. */
function lockHolderDied(lock: string): boolean {
  try {
    if (Date.now() - statSync(lock).mtimeMs > 3_600_000) return true;
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written: wait
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Builds (tsc -b) every package whose dist/ is older than its sources, as `npm ci` does, so the
 * examples run against today's code. Test files run in parallel: one build at a time, by lock.
 */
export async function ensurePackagesBuilt(): Promise<void> {
  const stale = () => [...new Set(allPackageProjects().flatMap((p) => staleProjects(p)))];
  if (stale().length === 0) return;
  mkdirSync(join(REPO_ROOT, 'tmp'), { recursive: true });
  const lock = join(REPO_ROOT, 'tmp', '.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      if (lockHolderDied(lock)) rmSync(lock, { recursive: true, force: true });
      await sleep(250);
    }
  }
  try {
    const todo = stale();
    if (todo.length === 0) return;
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await runProcess(process.execPath, [tsc, '-b', ...todo], REPO_ROOT, process.env);
    if (result.code !== 0) throw new Error(`tsc -b failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function runProcess(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<ScriptResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => {
      const lines = stdout.split('\n').map((line) => line.trimEnd());
      if (lines.at(-1) === '') lines.pop();
      done({ code, stdout, stderr, lines });
    });
  });
}

export interface RunScriptOptions {
  /** Extra environment variables (the test's own environment is passed on otherwise). */
  env?: Record<string, string | undefined>;
  /** Import the packages' TypeScript sources (the `source` export condition) instead of dist/. */
  source?: boolean;
}

/**
 * Writes `code` to example.ts in a fresh folder under the repository's tmp/ and runs it with
 * `npx tsx example.ts` from that folder (files the script writes land there); removes the folder.
 * @example
 * const { lines } = await runScript("import { importedBackend } from '@mtl/core';\nconsole.log(importedBackend);");
 */
export async function runScript(code: string, options: RunScriptOptions = {}): Promise<ScriptResult> {
  mkdirSync(join(REPO_ROOT, 'tmp'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, 'tmp', 'example-'));
  try {
    writeFileSync(join(dir, 'example.ts'), code);
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    // Nothing of the test runner's module set-up may leak into the newcomer's process.
    delete env.NODE_OPTIONS;
    delete env.VITEST;
    delete env.VITEST_POOL_ID;
    delete env.VITEST_WORKER_ID;
    delete env.TSX_TSCONFIG_PATH;
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    const args = ['tsx', ...(options.source ? ['--conditions=source'] : []), 'example.ts'];
    return await runProcess('npx', args, dir, env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** stderr without npm's own notices (npx may print them): what the script itself wrote. */
export function scriptErrors(result: ScriptResult): string {
  return result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^npm (warn|notice)\b/.test(line))
    .join('\n');
}

/**
 * Builds stale packages, then runs every example of the README (a path or file URL) as printed.
 * @example
 * const [core] = await runReadmeExamples(new URL('../README.md', import.meta.url));
 * expect(core.lines).toEqual(['wasm']);
 */
export async function runReadmeExamples(readme: string | URL): Promise<ScriptResult[]> {
  const examples = readmeExamples(readFileSync(readme, 'utf8'));
  if (examples.length === 0) throw new Error(`${String(readme)}: no runnable example`);
  await ensurePackagesBuilt();
  const results: ScriptResult[] = [];
  for (const code of examples) results.push(await runScript(code));
  return results;
}

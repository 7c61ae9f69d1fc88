// Builds the @mtl/native addon (build/mtl_native.node) with the system C++ compiler against
// node-api-headers from npm (node-gyp's header download needs internet) and the system BLAS
// (OpenBLAS on Linux: Debian `libopenblas-dev`; Accelerate on macOS).
//
// Run by the workspace root's `postinstall` (so `npm ci` builds it) and by `npm run build:addon`.
// The addon is optional: when no compiler or BLAS is present this exits 0 and the toolkit runs on
// the plain wasm kernels; it prints why only under `npm --verbose` or with `--verbose`.
// `--strict` exits 1 on failure instead (for a developer who wants to see the compiler error).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'binding', 'mtl_native.cc');
const target = join(root, 'build', 'mtl_native.node');
const args = process.argv.slice(2);
const strict = args.includes('--strict');
const loglevel = process.env.npm_config_loglevel ?? '';
const verbose = args.includes('--verbose') || loglevel === 'verbose' || loglevel === 'silly';
const force = args.includes('--force');

function done(message, ok) {
  if (!ok && strict) {
    console.error(`@mtl/native: ${message}`);
    process.exit(1);
  }
  if (verbose || (ok && strict)) console.log(`@mtl/native: ${message}`);
  process.exit(0);
}

if (process.env.MTL_NATIVE === '0') done('not built (MTL_NATIVE=0)', false);
if (!force && existsSync(target)) {
  const built = statSync(target).mtimeMs;
  if (built >= statSync(source).mtimeMs && built >= statSync(fileURLToPath(import.meta.url)).mtimeMs)
    done(`up to date (${target})`, true);
}

let include;
try {
  include = createRequire(join(root, 'package.json'))('node-api-headers').include_dir;
} catch {
  done('not built: the node-api-headers package is missing', false);
}

const mac = process.platform === 'darwin';
if (process.platform !== 'linux' && !mac) done(`not built: no build recipe for ${process.platform}`, false);
const compiler = process.env.CXX || (mac ? 'clang++' : 'g++');
const libs =
  process.env.MTL_NATIVE_BLAS_LIBS?.split(/\s+/).filter(Boolean) ??
  (mac ? ['-framework', 'Accelerate'] : ['-lopenblas']);
const tmp = `${target}.${process.pid}.tmp`;
const flags = [
  '-O3',
  '-std=c++17',
  '-fPIC',
  '-shared',
  // No fused multiply-add: the optimizer rules must round like the JavaScript host path.
  '-ffp-contract=off',
  '-fvisibility=hidden',
  '-DNAPI_VERSION=8',
  '-DNODE_GYP_MODULE_NAME=mtl_native',
  `-I${include}`,
  ...(mac ? ['-undefined', 'dynamic_lookup'] : []),
  source,
  '-o',
  tmp,
  ...libs,
];
mkdirSync(dirname(target), { recursive: true });
const run = spawnSync(compiler, flags, { encoding: 'utf8' });
if (run.error || run.status !== 0) {
  rmSync(tmp, { force: true });
  const why = run.error
    ? `${compiler} not found`
    : (run.stderr.split('\n').find((l) => /cannot find|error/i.test(l)) ??
      `${compiler} exited ${run.status}`);
  done(`not built (${why.trim()}); the wasm kernels will be used`, false);
}
renameSync(tmp, target);
done(`built ${target}`, true);

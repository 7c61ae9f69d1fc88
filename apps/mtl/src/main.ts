import { parseArgs } from 'node:util';
import { MtlError, toMtlError } from '@mtl/core';
import { compare } from './commands/compare.js';
import { score } from './commands/evaluate.js';
import { exportRun } from './commands/export.js';
import { info } from './commands/info.js';
import { parseSampleCount, predict } from './commands/predict.js';
import { report } from './commands/report.js';
import { train } from './commands/train.js';
import { validate } from './commands/validate.js';
import { exitCodeFor } from './errors.js';

export const HELP = `mtl — multitask learning on TensorFlow.js

Usage:
  mtl train <config> [--out DIR] [--from RUN_DIR] [--set a.b=value ...] [--backend node|wasm|cpu] [--report] [--quiet] [--verbose]
  mtl train --resume RUN_DIR [--backend B] [--quiet] [--verbose]
  mtl report <RUN_DIR> [RUN_DIR ...] [--out FILE]
  mtl score <RUN_DIR> [--json] [--backend B] [--verbose]
  mtl predict <RUN_DIR> --task NAME (--input FILE | --sample N) --output FILE [--backend B] [--verbose]
  mtl export <RUN_DIR> --format tfjs-layers --out DIR [--backend B] [--verbose]
  mtl compare <config> [--out DIR] [--set a.b=value ...] [--backend B] [--verbose]
  mtl validate <config> [--set a.b=value ...] [--backend B] [--verbose]
  mtl info [--json] [--backend B]
  mtl --help | --version

train     Trains the model a YAML/JSON config declares, into DIR (default runs/<config-name>-<timestamp>):
          config.resolved.yaml, metrics.jsonl, checkpoints/, model/, summary.json, scores.json
          (every task/dataset/split/metric), and mixing.json for VMTL models.
          --from RUN_DIR starts from that run's weights: modules with the same name and shapes are
          reused, new ones initialised, ones no task uses dropped, ones whose shape changed
          re-initialised (summary.json: reused, new, dropped, reshaped).
          --resume RUN_DIR continues a stopped or killed run from its last checkpoint with the
          run's own resolved config; it ends with the same scores as an uninterrupted run.
score     Scores every task on every split from a run's saved model (--json: a JSON object); for
          an interrupted run, from its best checkpoint, else its last (it says which, on stderr).
predict   Predictions of one task for every row of a CSV or JSONL file (labels not needed);
          writes CSV or JSONL (by extension): row, pred, prob_0, ... (regression: value_0, ...;
          VAE tasks: recon_j and z_mean_j). --sample N (VAE tasks) draws N examples from the prior.
export    Writes a multitask run's model as a standard tfjs LayersModel (DIR/model.json +
          DIR/weights.bin) that tf.loadLayersModel reads with plain tfjs: one input per field, one
          output per task (probabilities, or values for regression, as predict writes them);
          DIR/preprocessing.json too when the run fitted scaling or vocabularies (apply it first).
          Module kinds: dense, mlp, embedding, meanPool, layerNorm, dropout, activation; another
          kind is an error naming it.
compare   Multitask model vs one solo model per task (VMTL: vs the N(0, I)-prior baseline) with
          the same budget; writes comparison.json (both score maps, Δm) and prints the table.
report    Writes RUN_DIR/report.html (or FILE): one self-contained page (no network) with the
          summary, score tables (task x split, one per metric), learning curves (train and valid on
          the same axes, the best checkpoint marked), VMTL mixing heatmaps and, for a compare
          folder, multitask vs solo bars with Δm. Several RUN_DIRs are overlaid (colour per run,
          a score column group per run) in <their parent>/report-runs.html. Works on a run still
          training. (train --report: after training.)
validate  Runs every check train makes before its first step (data, model, a forward pass and the
          loss of every task on a batch of every split, watched metrics), writing nothing.
info      Lists what a config can use, read from the packages' registries: module kinds, task
          kinds, metrics (higher/lower is better), batch schedulers, optimizers, LR schedules,
          aggregators, model kinds and data source kinds, each with its options (name required,
          name? optional, name=default); the backends (available, active, native BLAS kernels)
          and package versions. --json: the same as one JSON object.

--set PATH=VALUE   overrides any config path (repeatable), e.g. --set training.epochs=100;
                   values are YAML (numbers, booleans, [lists]); the result is validated.
--backend          tfjs backend (default: config "backend", else MTL_BACKEND, else node > wasm > cpu).
--quiet            train prints only its run directory and its final line.
--verbose          print stack traces of errors.

Exit codes: 0 success; 2 bad config, data or arguments (the message names the file and config
path); 130 train stopped by Ctrl-C/SIGTERM (after the current step, with a checkpoint to
--resume from); 1 anything else.`;

const COMMON = {
  verbose: { type: 'boolean', default: false },
  backend: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parse<T>(command: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new MtlError('INVALID_ARGUMENT', `${(e as Error).message} (see mtl --help)`, {
      place: `mtl ${command}`,
    });
  }
}

function printHelp(out: (line: string) => void): 0 {
  out(HELP);
  return 0;
}

function onePositional(positionals: string[], what: string, command: string): string {
  if (positionals.length !== 1) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      positionals.length === 0
        ? `missing ${what}`
        : `expected one ${what}, got ${positionals.length}: ${positionals.join(' ')}`,
      { place: `mtl ${command}` },
    );
  }
  return positionals[0]!;
}

function required(value: string | undefined, flag: string, command: string): string {
  if (value === undefined || value === '') {
    throw new MtlError('INVALID_ARGUMENT', `${flag} is required`, { place: `mtl ${command}` });
  }
  return value;
}

/** Runs one command; resolves to the process exit code. Errors are printed, never thrown. */
export async function run(
  argv: readonly string[],
  io: { out?: (line: string) => void; err?: (line: string) => void } = {},
): Promise<number> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const [command, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        out(HELP);
        return command === undefined ? 2 : 0;
      case '--version':
        out('mtl 0.1.0');
        return 0;
      case 'train': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: {
              ...COMMON,
              ...{
                out: { type: 'string' },
                from: { type: 'string' },
                resume: { type: 'string' },
                set: { type: 'string', multiple: true },
                quiet: { type: 'boolean', default: false },
                report: { type: 'boolean', default: false },
              },
            },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        const trained = await train({
          ...(values.resume === undefined
            ? { config: onePositional(positionals, 'config file', command) }
            : { resume: values.resume, config: positionals[0] }),
          out: values.out,
          from: values.from,
          set: values.set ?? [],
          backend: values.backend,
          quiet: values.quiet ?? false,
          verbose,
          write: out,
          warn: err,
        });
        // Ctrl-C / SIGTERM: a resumable checkpoint was written and the way to resume printed.
        if (trained.interrupted) return 130;
        if (values.report) await report({ runDir: trained.runDir, write: out });
        return 0;
      }
      case 'score': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: { ...COMMON, ...{ json: { type: 'boolean', default: false } } },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        await score({
          runDir: onePositional(positionals, 'RUN_DIR', command),
          json: values.json ?? false,
          backend: values.backend,
          write: out,
          note: err,
        });
        return 0;
      }
      case 'predict': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: {
              ...COMMON,
              ...{
                task: { type: 'string' },
                input: { type: 'string' },
                output: { type: 'string' },
                sample: { type: 'string' },
              },
            },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        const sample = parseSampleCount(values.sample);
        const rows = await predict({
          runDir: onePositional(positionals, 'RUN_DIR', command),
          task: required(values.task, '--task', command),
          input: sample === undefined ? required(values.input, '--input', command) : values.input,
          output: required(values.output, '--output', command),
          backend: values.backend,
          sample,
        });
        out(`${rows} ${sample === undefined ? 'predictions' : 'samples'} written to ${values.output}`);
        return 0;
      }
      case 'export': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: { ...COMMON, ...{ format: { type: 'string' }, out: { type: 'string' } } },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        const outDir = required(values.out, '--out', command);
        const tasks = await exportRun({
          runDir: onePositional(positionals, 'RUN_DIR', command),
          format: required(values.format, '--format', command),
          out: outDir,
          backend: values.backend,
        });
        out(`tfjs LayersModel with outputs ${tasks.join(', ')} written to ${outDir}/model.json`);
        return 0;
      }
      case 'compare': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: { ...COMMON, ...{ out: { type: 'string' }, set: { type: 'string', multiple: true } } },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        await compare({
          config: onePositional(positionals, 'config file', command),
          out: values.out,
          set: values.set ?? [],
          backend: values.backend,
          write: out,
        });
        return 0;
      }
      case 'report': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: { ...COMMON, ...{ out: { type: 'string' } } },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        if (positionals.length === 0) {
          throw new MtlError('INVALID_ARGUMENT', 'missing RUN_DIR', { place: `mtl ${command}` });
        }
        await report({ runDir: positionals, out: values.out, write: out });
        return 0;
      }
      case 'validate': {
        const { values, positionals } = parse(command, () =>
          parseArgs({
            args: rest,
            options: { ...COMMON, ...{ set: { type: 'string', multiple: true } } },
            allowPositionals: true,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        await validate({
          config: onePositional(positionals, 'config file', command),
          set: values.set ?? [],
          backend: values.backend,
          write: out,
        });
        return 0;
      }
      case 'info': {
        const { values } = parse(command, () =>
          parseArgs({
            args: rest,
            options: { ...COMMON, ...{ json: { type: 'boolean', default: false } } },
            allowPositionals: false,
            strict: true,
          }),
        );
        if (values.help) return printHelp(out);
        await info({ json: values.json ?? false, backend: values.backend, write: out });
        return 0;
      }
      default:
        throw new MtlError(
          'INVALID_ARGUMENT',
          `unknown command "${command}" (commands: train, score, predict, export, compare, report, validate, info)`,
          {
            place: 'mtl',
          },
        );
    }
  } catch (e) {
    const error = toMtlError(e);
    err(`error [${error.code}]: ${error.message}`);
    if (verbose) err((e instanceof Error ? e.stack : undefined) ?? String(e));
    return exitCodeFor(error);
  }
}

import { loadConfig } from '../config/index.js';
import { nativeLine } from '../native-line.js';
import { preflight } from '../preflight.js';
import { prepare } from '../prepare.js';

/**
 * `mtl validate <config>`: parses and checks the config, loads the data, builds the model and runs
 * the same {@link preflight} as `mtl train` (a forward pass and the loss of every task on a batch
 * of every split, the trainer options, the watched metrics), writing nothing. A config it accepts
 * starts training; one it refuses, `mtl train` refuses with the same message. Returns a
 * one-paragraph description.
 */
export async function validate(args: {
  config: string;
  set?: readonly string[];
  backend?: string | undefined;
  write?: (line: string) => void;
}): Promise<string> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = loadConfig(args.config, args.set ?? []);
  const prepared = await prepare(loaded, { backend: args.backend });
  try {
    await preflight(prepared);
    const lines = [`${args.config}: valid (${loaded.config.model.kind} model, backend ${prepared.backend})`];
    for (const [name, data] of Object.entries(prepared.taskData)) {
      const sizes = Object.entries(data.splits)
        .map(([s, ds]) => `${s} ${ds.length}`)
        .join(', ');
      lines.push(
        `  task ${name}: ${data.datasetName} [${data.inputs.join(', ')}] -> ${data.label} (${sizes})`,
      );
    }
    lines.push(`  modules: ${prepared.run.moduleNames().join(', ') || '(none)'}`);
    if (prepared.backend === 'wasm') lines.push(`  ${nativeLine(prepared.backend)}`);
    const text = lines.join('\n');
    write(text);
    return text;
  } finally {
    prepared.run.dispose();
  }
}

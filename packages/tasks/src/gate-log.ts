import { type GateHistory, GateRecorder, gatedModules } from './gates.js';
import type { MultitaskModel } from './multitask-model.js';

/**
 * Records the gate weights of a model's gated modules at each evaluation during training (the
 * evaluations the Trainer asks for, with their step), for the run's `gates.json`.
 */
export interface GateLog {
  /** Runs an evaluation of `split` at `step`, recording the mean gate weights over its rows. */
  during<T>(split: string, step: number | undefined, evaluate: () => Promise<T>): Promise<T>;
  /** Every recorded evaluation; null when the model has no gated module. */
  history(): GateHistory | null;
}

/**
 * A {@link GateLog} for a multitask model (a model without gates records nothing and costs nothing).
 * @example
 * const gates = gateLog(model);
 * await gates.during('valid', 100, () => model.evaluate(loaders, 'valid'));
 */
export function gateLog(model: MultitaskModel): GateLog {
  const modules = gatedModules(model.modulePool);
  const recorder = new GateRecorder(modules);
  const evaluations: GateHistory['evaluations'] = [];
  return {
    async during(split, step, evaluate) {
      // Only the Trainer's evaluations carry a step; a final scoring pass is not one of them.
      if (recorder.isEmpty || step === undefined) return evaluate();
      const { result, gates } = await recorder.record(evaluate);
      evaluations.push({ step, split, gates });
      return result;
    },
    history: () => (recorder.isEmpty ? null : { evaluations: [...evaluations] }),
  };
}

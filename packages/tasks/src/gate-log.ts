import { type GateHistory, GateRecorder, gatedModules } from './gates.js';
import type { MultitaskModel } from './multitask-model.js';

/**
 * Records the gate weights of a model's gated modules at each evaluation during training (the
 * evaluations the Trainer asks for, with their step), for the run's `gates.json`.
 */
export interface GateLog {
  /** Runs an evaluation of `split` at `step`, recording the mean gate weights over its rows. */
  during<T>(split: string, step: number | undefined, evaluate: () => Promise<T>): Promise<T>;
  /**
   * Records the gates of the final model (after training, and after the best weights were put
   * back): one more pass over the split of the last recorded evaluation, kept as `final`. `step`
   * is the step whose weights the model holds. Nothing when no evaluation was recorded.
   */
  final(
    info: { step: number; restoredBest: boolean },
    evaluate: (split: string) => Promise<unknown>,
  ): Promise<void>;
  /** Every recorded evaluation (and the final model's gates); null when the model has no gated module. */
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
  let final: GateHistory['final'];
  return {
    async during(split, step, evaluate) {
      // Only the Trainer's evaluations carry a step; a final scoring pass is not one of them.
      if (recorder.isEmpty || step === undefined) return evaluate();
      const { result, gates } = await recorder.record(evaluate);
      evaluations.push({ step, split, gates });
      return result;
    },
    async final(info, evaluate) {
      const split = evaluations.at(-1)?.split;
      if (recorder.isEmpty || split === undefined) return;
      const { gates } = await recorder.record(() => evaluate(split));
      final = { step: info.step, split, restoredBest: info.restoredBest, gates };
    },
    history: () =>
      recorder.isEmpty ? null : { evaluations: [...evaluations], ...(final === undefined ? {} : { final }) },
  };
}

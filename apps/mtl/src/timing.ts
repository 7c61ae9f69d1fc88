/** Wall-clock and CPU (user + system, all threads of the process) seconds spent in one phase. */
export interface PhaseTime {
  wallSeconds: number;
  cpuSeconds: number;
}

/** The phases `mtl train` reports in summary.json and on its last console line. */
export const PHASES = ['load', 'build', 'train', 'evaluate'] as const;
export type Phase = (typeof PHASES)[number];

/**
 * Accumulates wall and CPU time per phase of one process. A phase may be entered several times
 * (evaluations during training); its times add up. Only this process is measured: a resumed run
 * reports the time of the resumed part.
 * @example
 * const clock = new PhaseClock();
 * const data = clock.measure('load', () => readData());
 * clock.times(); // { load: { wallSeconds, cpuSeconds }, ..., total }
 */
export class PhaseClock {
  private readonly start = mark();
  private readonly spent = new Map<Phase, PhaseTime>();

  /** Runs `fn`, adding its time to `phase`. */
  measure<T>(phase: Phase, fn: () => T): T {
    const from = mark();
    const done = () => this.add(phase, since(from));
    let out: T;
    try {
      out = fn();
    } catch (e) {
      done();
      throw e;
    }
    if (out instanceof Promise) return out.finally(done) as T;
    done();
    return out;
  }

  /** Adds a measured span to `phase` (e.g. training minus the evaluations inside it). */
  add(phase: Phase, time: PhaseTime): void {
    const prior = this.spent.get(phase) ?? { wallSeconds: 0, cpuSeconds: 0 };
    this.spent.set(phase, {
      wallSeconds: prior.wallSeconds + time.wallSeconds,
      cpuSeconds: prior.cpuSeconds + time.cpuSeconds,
    });
  }

  get(phase: Phase): PhaseTime {
    return this.spent.get(phase) ?? { wallSeconds: 0, cpuSeconds: 0 };
  }

  /** Every phase (0 when never entered) and `total`, the time since the clock was made. */
  times(): Record<Phase | 'total', PhaseTime> {
    const out = Object.fromEntries(PHASES.map((p) => [p, this.get(p)])) as Record<Phase | 'total', PhaseTime>;
    out.total = since(this.start);
    return out;
  }
}

interface Mark {
  wall: number;
  cpu: NodeJS.CpuUsage;
}

// No process in a browser page (apps/web runs prepare): CPU time there reads as 0.
const cpuUsage = (from?: NodeJS.CpuUsage): NodeJS.CpuUsage =>
  typeof process === 'undefined' ? { user: 0, system: 0 } : process.cpuUsage(from);

function mark(): Mark {
  return { wall: performance.now(), cpu: cpuUsage() };
}

/** Time since `from`; never negative. */
export function since(from: Mark): PhaseTime {
  const cpu = cpuUsage(from.cpu);
  return {
    wallSeconds: Math.max(0, (performance.now() - from.wall) / 1000),
    cpuSeconds: Math.max(0, (cpu.user + cpu.system) / 1e6),
  };
}

export { mark as timeMark };

/**
 * Marks a moment of the CLI's start-up as a `performance` mark `mtl:<name>` carrying the CPU time
 * so far (microseconds, user + system), so that `tools/bench/startup.ts` can say where the time
 * before the first training step goes. A mark costs microseconds and prints nothing.
 * @example
 * startupMark('backend'); // performance.getEntriesByName('mtl:backend')[0].startTime: ms since process start
 */
export function startupMark(name: string): void {
  const cpu = cpuUsage();
  performance.mark(`mtl:${name}`, { detail: { cpuMicros: cpu.user + cpu.system } });
}

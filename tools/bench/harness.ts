/** One measured repetition of a workload. */
export interface Repetition {
  /** Wall time of the timed part, milliseconds. */
  ms: number;
  /**
   * CPU time of this process (all threads) during the timed part, milliseconds. On a busy machine
   * wall time also counts the time other processes had the cores; CPU time does not.
   */
  cpuMs?: number;
  /** Training steps (or operations) in the timed part. */
  steps: number;
  /** Examples processed in the timed part (0 when not meaningful). */
  examples: number;
  /** Floating-point operations in the timed part (0 when not counted). */
  flops: number;
  /** Anything else worth printing (e.g. the accuracy reached). */
  notes?: Record<string, number | string>;
}

/** A peer's figure to compare with. */
export interface PeerFigure {
  label: string;
  /** Which of our numbers it compares to; ratio = ours / peer when higher is better, peer / ours otherwise. */
  metric: 'msPerStep' | 'examplesPerSec' | 'gflops' | 'totalMs';
  value: number;
}

export interface Workload {
  id: string;
  title: string;
  /** Variants run separately (e.g. T = 2, 8, 32, 64). */
  variants: Array<{ name: string; params: Record<string, number> }>;
  peers?: (variant: string) => PeerFigure[];
  /**
   * The untimed run first (V8 compiles tfjs's hot paths over the first thousands of ops; a fresh
   * process runs the first repetition of a small workload 1.5-2× slower): `quick` (default) a
   * quick-mode repetition, `full` a full one (cheap workloads), `none` nothing.
   */
  warmup?: 'quick' | 'full' | 'none';
  /** Sets up and times one repetition. Setup must not be inside the timed part. */
  run(params: Record<string, number>, options: { quick: boolean; seed: number }): Promise<Repetition>;
}

export interface Result {
  workload: string;
  variant: string;
  /** The tfjs backend, or a bench variant of one (`wasm-mt2`: the wasm backend with 2 threads). */
  backend: string;
  repetitions: number;
  msPerStepMedian: number;
  msPerStepMin: number;
  msPerStepMax: number;
  /** Median CPU time per step (see {@link Repetition.cpuMs}); 0 when not measured. */
  cpuMsPerStepMedian: number;
  totalMsMedian: number;
  examplesPerSec: number;
  gflops: number;
  notes: Record<string, number | string>;
  peers: Array<PeerFigure & { ratio: number }>;
  /** The backend a user gets by default (`selectBackend()` with no option), in JSON output. */
  default?: true;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Summarises repetitions; ratios > 1 mean we are faster than the peer. */
export function summarise(
  workload: Workload,
  variant: string,
  backend: string,
  reps: readonly Repetition[],
): Result {
  const perStep = reps.map((r) => r.ms / Math.max(1, r.steps));
  const totalMsMedian = median(reps.map((r) => r.ms));
  const first = reps[0]!;
  const msPerStepMedian = median(perStep);
  const examplesPerSec = first.examples > 0 ? median(reps.map((r) => (r.examples / r.ms) * 1000)) : 0;
  const gflops = first.flops > 0 ? median(reps.map((r) => r.flops / r.ms / 1e6)) : 0;
  const ours = { msPerStep: msPerStepMedian, examplesPerSec, gflops, totalMs: totalMsMedian };
  const peers = (workload.peers?.(variant) ?? []).map((p) => {
    const mine = ours[p.metric];
    const lowerIsBetter = p.metric === 'msPerStep' || p.metric === 'totalMs';
    return { ...p, ratio: lowerIsBetter ? p.value / mine : mine / p.value };
  });
  return {
    workload: workload.id,
    variant,
    backend,
    repetitions: reps.length,
    msPerStepMedian,
    msPerStepMin: Math.min(...perStep),
    msPerStepMax: Math.max(...perStep),
    cpuMsPerStepMedian: median(reps.map((r) => (r.cpuMs ?? 0) / Math.max(1, r.steps))),
    totalMsMedian,
    examplesPerSec,
    gflops,
    notes: reps[reps.length - 1]!.notes ?? {},
    peers,
  };
}

function fmt(x: number, digits = 3): string {
  if (x === 0) return '-';
  if (x >= 1000) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toPrecision(digits);
}

/** Renders results as an aligned text table. */
export function formatResults(results: readonly Result[]): string {
  const header = [
    'workload',
    'variant',
    'backend',
    'ms/step median',
    'min-max',
    'cpu ms/step',
    'examples/s',
    'GFLOP/s',
    'vs peer',
    'notes',
  ];
  const rows = results.map((r) => [
    r.workload,
    r.variant,
    r.backend,
    fmt(r.msPerStepMedian),
    `${fmt(r.msPerStepMin)}-${fmt(r.msPerStepMax)}`,
    fmt(r.cpuMsPerStepMedian),
    fmt(r.examplesPerSec),
    fmt(r.gflops),
    r.peers.map((p) => `${p.ratio.toFixed(2)}x ${p.label}`).join('; ') || '-',
    Object.entries(r.notes)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`)
      .join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Times `body`: wall and process CPU milliseconds.
 * @example
 * const { ms, cpuMs } = await timed(() => trainer.fit(model, options));
 */
export async function timed(body: () => Promise<unknown> | unknown): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import {
  type AggregatorEnv,
  checkRows,
  gradientOfOption,
  preferenceValue,
  preferenceVector,
} from './common.js';
import { combineRows, gramian, matVec, pinvPsd } from './linalg.js';

/**
 * ConFIG (Liu et al. 2024, "Towards Conflict-free Training of Physics Informed Neural
 * Networks", Eq. 2): the direction `x = U⁺·preference` of the unit gradients `U` (so
 * `⟨x, g_i/‖g_i‖⟩` is proportional to the preference whenever U has full row rank), normalised,
 * with the length `Σ_i ⟨g_i, x̂⟩`. Worked on the Gram matrix: `U⁺p = Uᵀ(UUᵀ)⁺p`. Preference
 * default `sum` (ones), as the paper and torchjd.
 */
export const configOptionsSchema = z
  .strictObject({
    method: z.literal('config'),
    ...gradientOfOption,
    preference: preferenceValue.default('sum'),
  })
  .describe('gradient level: conflict-free direction of the unit gradients (ConFIG)');

export function createConfig(options: z.output<typeof configOptionsSchema>, env: AggregatorEnv): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'config',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'config');
      const m = J.rows;
      const G = gramian(J);
      const n = G.map((r, i) => Math.sqrt(Math.max(0, r[i]!)));
      const inv = n.map((x) => (x > 0 ? 1 / x : 0));
      const Gu = G.map((r, i) => r.map((v, j) => v * inv[i]! * inv[j]!));
      const p = preferenceVector(options.preference, m, 'config');
      const a = matVec(pinvPsd(Gu), p);
      // Direction x = Σ c_i g_i with c_i = a_i/‖g_i‖; ‖x‖² = cᵀGc and ⟨g_i, x⟩ = (Gc)_i.
      const c = a.map((x, i) => x * inv[i]!);
      const Gc = matVec(G, c);
      const sq = c.reduce((s, x, i) => s + x * Gc[i]!, 0);
      const w = new Float64Array(m);
      // ‖x‖ ≥ ‖p's part in the range of U‖/√m (unit rows): below 1e-9·‖p‖/√m, p is orthogonal to
      // that range and x is rounding noise that normalising would blow up into a direction.
      const xu = Math.sqrt(
        Math.max(
          0,
          a.reduce((s, x, i) => s + x * matVec(Gu, a)[i]!, 0),
        ),
      );
      const pn = Math.sqrt(p.reduce((s, x) => s + x * x, 0));
      if (sq > 0 && Number.isFinite(sq) && xu > (1e-9 * pn) / Math.sqrt(m)) {
        const length = Gc.reduce((s, x) => s + x, 0) / Math.sqrt(sq);
        for (let i = 0; i < m; i++) w[i] = (length * c[i]!) / Math.sqrt(sq);
      }
      last = w;
      return combineRows(J, w);
    },
    lastWeights: () => last,
  };
}

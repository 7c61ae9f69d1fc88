// quadprog ships no types; only the one function we call is declared (1-indexed arrays, as in the
// Fortran original it ports).
declare module 'quadprog' {
  export interface QpResult {
    solution: number[];
    value: number[];
    message: string;
  }
  export function solveQP(
    Dmat: number[][],
    dvec: number[],
    Amat: number[][],
    bvec: number[],
    meq?: number,
  ): QpResult;
}

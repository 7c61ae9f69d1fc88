/**
 * Ranks 1..n of `values`, ties sharing the average of the ranks they span (the convention of
 * scipy's `rankdata(method='average')`, which Spearman and the Mann-Whitney AUC both need).
 * O(n log n): one sort of the indices.
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let j = start; j < end; j++) ranks[order[j]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Area under the ROC curve of `scores` for the rows where `positive(i)` is true against the rest,
 * by the rank-sum (Mann-Whitney U) identity: AUC = (R+ - n+(n+ + 1)/2) / (n+ n-), with average ranks
 * so a tie between a positive and a negative counts one half. Returns NaN when either side is empty.
 */
export function rankAuc(scores: ArrayLike<number>, positive: (i: number) => boolean): number {
  const ranks = averageRanks(scores);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < ranks.length; i++) {
    if (positive(i)) {
      nPos++;
      rankSum += ranks[i];
    }
  }
  const nNeg = ranks.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Log-scaled latency bins: bin i holds latencies in (MIN·RATIO^(i-1), MIN·RATIO^i] milliseconds,
 * so a quantile read from the bins is within RATIO-1 (4%) of the exact value. Bin 0 holds
 * everything up to MIN, the last bin everything above the second-to-last bound (about 5 hours).
 */
const MIN_MS = 0.01;
const RATIO = 1.04;
export const BIN_COUNT = 512;
const LOG_RATIO = Math.log(RATIO);

/** The bin a latency falls into. */
export function binOf(latencyMs: number): number {
  if (!(latencyMs > MIN_MS)) return 0;
  const index = Math.ceil(Math.log(latencyMs / MIN_MS) / LOG_RATIO - 1e-9);
  return Math.min(BIN_COUNT - 1, index);
}

/** The upper bound of a bin, milliseconds. */
export function upperBoundOf(bin: number): number {
  return MIN_MS * RATIO ** bin;
}

/**
 * The nearest-rank quantile `q` (0 < q <= 1) of the counts summed over `histograms`: the upper
 * bound of the bin holding that rank, kept within the smallest and largest latency seen.
 */
export function quantile(histograms: readonly Uint32Array[], total: number, q: number, range: { min: number; max: number }): number | null {
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let bin = 0; bin < BIN_COUNT; bin++) {
    for (const histogram of histograms) seen += histogram[bin]!;
    if (seen >= rank) return Math.min(range.max, Math.max(range.min, upperBoundOf(bin)));
  }
  return range.max;
}

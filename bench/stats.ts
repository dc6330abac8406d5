/** Small statistics for latency samples: nearest-rank percentiles over a sorted copy. */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

export function sortedCopy (values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b)
}

/** Round to a few significant digits for display and JSON, keeping integers whole. */
export function round (value: number, digits = 4): number {
  if (!Number.isFinite(value) || value === 0) return value
  if (Math.abs(value) >= 10 ** digits) return Math.round(value)
  return Number(value.toPrecision(digits))
}

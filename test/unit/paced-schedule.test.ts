/**
 * The latency phase's schedule: the rate rises evenly from zero over the ramp, then holds, so the
 * measured part runs at the asked rate and the ramp sends half as many requests as its length at
 * full rate would.
 */
import { describe, expect, it } from 'vitest'
import { pacedDueAt } from '../../bench/load-phases.js'

const spec = { ratePerS: 1200, startAt: 1_000_000, rampUntil: 1_006_000 }

/** How many of the first `n` requests are due before `at`. */
const dueBefore = (at: number, n = 100_000): number => {
  let count = 0
  for (let i = 0; i < n; i++) if (pacedDueAt(spec, i) < at) count++
  return count
}

describe('paced schedule', () => {
  it('starts at startAt and never goes back in time', () => {
    expect(pacedDueAt(spec, 0)).toBe(spec.startAt)
    let previous = -Infinity
    for (let i = 0; i < 20_000; i++) {
      const due = pacedDueAt(spec, i)
      expect(due).toBeGreaterThan(previous)
      previous = due
    }
  })

  it('sends half a ramp at full rate during the ramp, and the full rate after it', () => {
    // 6 s rising to 1.2 per ms: 3,600 requests.
    expect(dueBefore(spec.rampUntil)).toBe(3600)
    // Every later second holds 1,200 requests.
    expect(dueBefore(spec.rampUntil + 10_000) - dueBefore(spec.rampUntil + 9_000)).toBe(1200)
    expect(pacedDueAt(spec, 3600 + 1200) - pacedDueAt(spec, 3600)).toBeCloseTo(1000, 6)
  })

  it('rises evenly: the second half of the ramp sends three times the first', () => {
    const half = spec.startAt + 3000
    expect(dueBefore(half)).toBe(900)
    expect(dueBefore(spec.rampUntil) - dueBefore(half)).toBe(2700)
  })

  it('is a constant rate from the start without a ramp', () => {
    const flat = { ...spec, rampUntil: spec.startAt }
    expect(pacedDueAt(flat, 0)).toBe(spec.startAt)
    expect(pacedDueAt(flat, 1200)).toBeCloseTo(spec.startAt + 1000, 6)
  })
})

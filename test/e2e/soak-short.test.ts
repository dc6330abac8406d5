/**
 * A 24-second soak through the compiled bench (`--soak --minutes 0.4 --rate 20`): validators
 * killed with SIGKILL and restarted under open-loop load at a given rate, then the bench's own
 * checks. It must exit 0, having killed validators, offered the load and certified records, with
 * its latency figures, no height where validators disagree and no certified record missing from
 * the service or any validator. The rate is given, so the run skips the peak phase and its
 * checks stay short.
 */
import { describe, expect, it } from 'vitest'
import { runBench, tail } from './bench-output.js'

describe('bench --soak (short)', () => {
  it('kills and restarts validators under paced load with no disagreement and nothing lost', async () => {
    const run = await runBench(['--soak', '--minutes', '0.4', '--rate', '20'], 140_000)
    expect(run.code, tail(run.stderr)).toBe(0)
    const value = (metric: string): number | undefined => run.figures.find(f => f.metric === metric)?.value
    expect(value('soak_mismatches')).toBe(0)
    expect(value('soak_missing')).toBe(0)
    expect(value('soak_invalid_certificates')).toBe(0)
    expect(value('soak_kills')).toBeGreaterThan(0)
    expect(value('soak_certified')).toBeGreaterThan(0)
    expect(value('soak_heights')).toBeGreaterThan(0)
    // The given rate, not a measured peak: the schedule offered it (less the ramp from zero).
    expect(value('soak_peak_single_per_s')).toBeUndefined()
    expect(value('soak_offered_per_s')).toBeGreaterThan(15)
    expect(value('soak_offered_per_s')).toBeLessThanOrEqual(20)
    expect(value('soak_latency_p50_ms')).toBeGreaterThan(0)
    expect(value('soak_latency_p99_ms')).toBeGreaterThanOrEqual(value('soak_latency_p50_ms') ?? Number.POSITIVE_INFINITY)
  }, 150_000)
})

/**
 * A half-minute soak through the compiled bench (`--soak --minutes 0.5`): validators killed with
 * SIGKILL and restarted under load, then the bench's own checks. It must exit 0, having killed
 * validators and certified records, with no height where validators disagree and no certified
 * record missing from the service or any validator.
 */
import { describe, expect, it } from 'vitest'
import { runBench, tail } from './bench-output.js'

describe('bench --soak (short)', () => {
  it('kills and restarts validators under load with no disagreement and nothing lost', async () => {
    const run = await runBench(['--soak', '--minutes', '0.5'], 140_000)
    expect(run.code, tail(run.stderr)).toBe(0)
    const value = (metric: string): number | undefined => run.figures.find(f => f.metric === metric)?.value
    expect(value('soak_mismatches')).toBe(0)
    expect(value('soak_missing')).toBe(0)
    expect(value('soak_invalid_certificates')).toBe(0)
    expect(value('soak_kills')).toBeGreaterThan(0)
    expect(value('soak_certified')).toBeGreaterThan(0)
    expect(value('soak_heights')).toBeGreaterThan(0)
  }, 150_000)
})

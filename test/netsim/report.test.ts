import { describe, expect, it } from 'vitest'
import { percentile, phaseReport, reportTable } from '../../cli/netsim/report.js'
import { parseScenario } from '../../cli/netsim/scenario.js'

const phase = parseScenario({ phases: [{ name: 'cut', seconds: 10, partition: [[0, 1], [2, 3]], delayMs: 5 }] }).phases[0]

describe('netsim report', () => {
  it('takes nearest-rank percentiles, none of an empty sample', () => {
    expect(percentile([], 50)).toBeNull()
    expect(percentile([1, 2, 3, 4], 50)).toBe(2)
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99)
  })

  it('counts only entries certified inside the phase, and commits from the highest tips', () => {
    const entries = [
      { id: 'a', sentAt: 500, certifiedAt: 900 }, // before the phase
      { id: 'b', sentAt: 1000, certifiedAt: 1200 },
      { id: 'c', sentAt: 1000, certifiedAt: 1400 },
      { id: 'd', sentAt: 1000, certifiedAt: 11_000 }, // at the end: the next phase's
      { id: 'e', sentAt: 1000 }
    ]
    const r = phaseReport({
      phase: phase!, rate: 20, startedAt: 1000, endedAt: 11_000, requestsFailed: 1, sendsSkipped: 3,
      startTips: [{ height: 5, hash: 'x' }, { height: 4, hash: 'y' }],
      endTips: [{ height: 9, hash: 'z' }, undefined]
    }, entries, true, 0)
    expect(r).toMatchObject({ phase: 'cut', partition: '0,1|2,3', delayMs: 5, certified: 2, certifiedPerSec: 0.2, commits: 4, commitsPerSec: 0.4, p50Ms: 200, p99Ms: 400, heights: [9, null], failedRequests: 1, skippedSends: 3 })
    const table = reportTable([r])
    expect(table.split('\n')[1]).toMatch(/^cut\s+10\s+0,1\|2,3/)
  })
})

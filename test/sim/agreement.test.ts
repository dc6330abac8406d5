/**
 * Seeded simulations of the agreement protocol: n in {1, 4, 7}, lossy and partitioned networks,
 * crashed and lying validators. A failure prints its seed; `npm run sim:replay -- SEED` replays it.
 */
import { describe, expect, it } from 'vitest'
import { BEHAVIOURS, generateScenario, type Scenario } from './scenario.js'
import { runScenario, type SimResult } from './simulator.js'

const SEEDS = Number(process.env.SIM_SEEDS ?? 600)
const FIRST = Number(process.env.SIM_FIRST_SEED ?? 1)

function explain (r: SimResult): string {
  return `${r.scenario}\n${r.failure ?? ''}\nreplay: npm run sim:replay -- ${r.scenario.match(/seed=(\d+)/)?.[1]}\nlast events:\n${r.trace.slice(-15).join('\n')}`
}

describe('agreement under faults (seeded)', () => {
  it(`holds safety and liveness in ${SEEDS} random scenarios`, () => {
    const failures: string[] = []
    const sizes = new Map<number, number>()
    let faultyRuns = 0
    let partitioned = 0
    const behaviours = new Set<string>()
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      const scenario = generateScenario(seed)
      sizes.set(scenario.n, (sizes.get(scenario.n) ?? 0) + 1)
      if (scenario.faulty.length > 0) faultyRuns++
      for (const f of scenario.faulty) behaviours.add(f.behaviour)
      if (scenario.partitions.length > 0) partitioned++
      const result = runScenario(scenario)
      if (!result.ok) failures.push(explain(result))
      else expect(result.committedEntries).toBe(result.submittedEntries)
    }
    expect(failures, failures.join('\n\n')).toEqual([])
    // The seeds really cover what they claim to.
    expect([...sizes.keys()].sort()).toEqual([1, 4, 7])
    expect(faultyRuns).toBeGreaterThan(SEEDS / 4)
    expect(partitioned).toBeGreaterThan(SEEDS / 5)
    if (SEEDS >= 600) expect([...behaviours].sort()).toEqual([...BEHAVIOURS].sort())
  }, 300_000)
})

const base = (seed: number, n: number): Scenario => ({
  seed,
  n,
  faulty: [],
  network: { minDelayMs: 1, maxDelayMs: 60, drop: 0.05, duplicate: 0.1 },
  partitions: [],
  submissions: [{ at: 10, node: n - 1, count: 10 }, { at: 2000, node: 0, count: 10 }],
  restarts: [],
  settleMs: 60_000
})

describe('named scenarios', () => {
  it('a single validator commits alone', () => {
    const r = runScenario(base(1, 1))
    expect(r.ok, explain(r)).toBe(true)
    expect(r.committedEntries).toBe(20)
  })

  it('the first leader crashes at once: the next round\'s leader takes over', () => {
    // height 1, round 0 is led by validator (1 + 0) % 4 = 1
    const r = runScenario({ ...base(2, 4), faulty: [{ index: 1, behaviour: 'crash', at: 0 }] })
    expect(r.ok, explain(r)).toBe(true)
    expect(r.stats.rounds).toBeGreaterThan(0)
  })

  it('an equivocating leader cannot split honest validators', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = runScenario({ ...base(seed, 4), faulty: [{ index: 1, behaviour: 'equivocating-leader', at: 0 }] })
      expect(r.ok, explain(r)).toBe(true)
    }
  })

  it('a double-voting validator is caught as evidence and never counted twice', () => {
    const r = runScenario({ ...base(3, 7), faulty: [{ index: 2, behaviour: 'double-voter', at: 0 }, { index: 5, behaviour: 'double-voter', at: 0 }] })
    expect(r.ok, explain(r)).toBe(true)
    expect(r.stats.evidence).toBeGreaterThan(0)
  })

  it('forged signatures and invalid proposals are refused', () => {
    const r = runScenario({ ...base(4, 7), faulty: [{ index: 1, behaviour: 'bad-signatures', at: 0 }, { index: 2, behaviour: 'invalid-proposals', at: 0 }] })
    expect(r.ok, explain(r)).toBe(true)
    expect(r.stats.refused).toBeGreaterThan(0)
  })

  it('a 2 | 2 partition commits nothing new, and commits resume once it heals', () => {
    const r = runScenario({
      ...base(5, 4),
      network: { minDelayMs: 1, maxDelayMs: 20, drop: 0, duplicate: 0 },
      partitions: [{ from: 0, to: 8000, groups: [[0, 1], [2, 3]] }],
      submissions: [{ at: 100, node: 0, count: 5 }, { at: 100, node: 3, count: 5 }]
    })
    expect(r.ok, explain(r)).toBe(true)
    expect(r.virtualMs).toBeGreaterThanOrEqual(8000)
  })

  it('a validator cut off for a long time catches up after healing', () => {
    const r = runScenario({
      ...base(6, 4),
      partitions: [{ from: 0, to: 20_000, groups: [[0, 1, 2], [3]] }],
      submissions: Array.from({ length: 10 }, (_, i) => ({ at: 100 + i * 1500, node: i % 3, count: 8 }))
    })
    expect(r.ok, explain(r)).toBe(true)
    expect(r.stats.syncs).toBeGreaterThan(0)
  })
})

describe('entries already on chain', () => {
  it('a leader re-proposing committed submissions, even one height early, gets nil votes from every honest validator', () => {
    let replays = 0
    let buffered = 0
    for (let seed = 1; seed <= 10; seed++) {
      const r = runScenario({
        ...base(seed, 4),
        faulty: [{ index: 3, behaviour: 'replaying-proposer', at: 0 }],
        submissions: Array.from({ length: 8 }, (_, i) => ({ at: 10 + i * 700, node: i % 3, count: 4 }))
      })
      // The simulator throws on an honest prevote for such a block, and on an entry committed twice.
      expect(r.ok, explain(r)).toBe(true)
      replays += r.stats.replays
      buffered += r.stats.replaysBuffered
    }
    expect(replays).toBeGreaterThan(0)
    // Some of them reached honest validators still deciding the height before, who judged them after their commit.
    expect(buffered).toBeGreaterThan(0)
  })
})

describe('submissions no registered service signed', () => {
  it('a leader proposing unsigned, mis-signed or misattributed submissions gets nil votes, and they never commit', () => {
    let forgeries = 0
    for (let seed = 1; seed <= 10; seed++) {
      const r = runScenario({
        ...base(seed, 4),
        faulty: [{ index: 1, behaviour: 'forging-proposer', at: 0 }],
        submissions: Array.from({ length: 6 }, (_, i) => ({ at: 10 + i * 700, node: [0, 2, 3][i % 3] as number, count: 3 }))
      })
      // The simulator throws on an honest prevote for such a block, and on a committed submission that does not verify.
      expect(r.ok, explain(r)).toBe(true)
      expect(r.committedEntries).toBe(18)
      forgeries += r.stats.forgeries
    }
    expect(forgeries).toBeGreaterThan(0)
  })
})

describe('rounds drifting apart', () => {
  it('a validator cut off while the others went through more than 50 failed rounds joins them, and commits resume', () => {
    // 15 s without proposals: v0..v2 fail round after round while v3, cut off, stays in round 0.
    // Then v2 crashes and the links heal: v0, v1 and v3 are a quorum only once v3 reaches their round.
    const r = runScenario({
      ...base(7, 4),
      params: { timeoutProposeMs: 30, timeoutVoteMs: 30, timeoutDeltaMs: 1, rebroadcastMs: 200 },
      network: { minDelayMs: 1, maxDelayMs: 20, drop: 0, duplicate: 0 },
      faulty: [{ index: 2, behaviour: 'crash', at: 15_000 }],
      partitions: [{ from: 0, to: 15_000, groups: [[0, 1, 2], [3]] }],
      proposalLoss: [{ from: 0, to: 15_000 }],
      submissions: [{ at: 10, node: 0, count: 5 }, { at: 10, node: 3, count: 5 }]
    })
    expect(r.ok, explain(r)).toBe(true)
    expect(r.stats.maxRound).toBeGreaterThan(50)
    expect(r.committedEntries).toBe(10)
  })
})

describe('the simulation has teeth', () => {
  it('finds an agreement violation when a quorum is miscounted as f+1', () => {
    const violations: string[] = []
    for (let seed = 1; seed <= 300 && violations.length === 0; seed++) {
      const r = runScenario({ ...generateScenario(seed), brokenQuorum: true })
      if (!r.ok && r.failure?.includes('agreement') === true) violations.push(r.scenario)
    }
    expect(violations.length).toBe(1)
  })
})

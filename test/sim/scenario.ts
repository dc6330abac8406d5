/**
 * A simulated scenario, fully determined by one seed: how many validators, which of them are
 * faulty and how, how the network misbehaves (delay, loss, duplication, reordering, partitions
 * that heal), and when submissions of entries are made to which honest validator.
 */
import type { ConsensusParams } from '../../consensus/types.js'
import { Rng } from '../../lib/rng.js'

export type Behaviour =
  | 'crash'
  | 'equivocating-leader'
  | 'double-voter'
  | 'bad-signatures'
  | 'invalid-proposals'
  | 'height-liar'
  /** Proposes entries already on chain: those of the block just committed (even before the others have it) and older ones. */
  | 'replaying-proposer'
  /** Proposes blocks holding a submission no registered service signed (unsigned, signed by another key, or claiming another service). */
  | 'forging-proposer'

export const BEHAVIOURS: readonly Behaviour[] = ['crash', 'equivocating-leader', 'double-voter', 'bad-signatures', 'invalid-proposals', 'height-liar', 'replaying-proposer', 'forging-proposer']

export interface Partition { from: number, to: number, groups: number[][] }

export interface Scenario {
  seed: number
  n: number
  faulty: Array<{ index: number, behaviour: Behaviour, at: number }>
  network: { minDelayMs: number, maxDelayMs: number, drop: number, duplicate: number }
  partitions: Partition[]
  /** Windows in which proposals (the large messages) are lost on every link while votes pass: rounds fail one after another. */
  proposalLoss?: Array<{ from: number, to: number }>
  /** Genesis parameters that differ from SIM_PARAMS. */
  params?: Partial<ConsensusParams>
  /** Each is one signed submission of `count` entries, by the registered services in turn. */
  submissions: Array<{ at: number, node: number, count: number }>
  /** Honest validators killed and restarted from what they persisted (they must never equivocate). */
  restarts: Array<{ node: number, at: number, downMs: number }>
  /** Time after the last disruption by which every honest node must have everything. */
  settleMs: number
  /** Test-only sabotage: count a quorum as f+1, to prove the checks catch an unsafe protocol. */
  brokenQuorum?: boolean
}

export function generateScenario (seed: number): Scenario {
  const rng = new Rng(seed)
  const n = rng.pick([1, 4, 4, 4, 7, 7])
  const f = Math.floor((n - 1) / 3)
  const faultyCount = rng.int(0, f)
  const indices = rng.shuffle([...Array(n).keys()])
  const faulty = indices.slice(0, faultyCount).map(index => ({ index, behaviour: rng.pick(BEHAVIOURS), at: rng.int(0, 4000) }))
  const honest = indices.slice(faultyCount)
  const maxDelayMs = rng.pick([5, 50, 150, 400])
  const network = {
    minDelayMs: 1,
    maxDelayMs,
    drop: rng.pick([0, 0, 0.05, 0.15, 0.3]),
    duplicate: rng.pick([0, 0.05, 0.2])
  }
  const partitions: Partition[] = []
  if (n > 1 && rng.chance(0.4)) {
    const from = rng.int(0, 5000)
    const shuffled = rng.shuffle([...Array(n).keys()])
    const cut = rng.int(1, n - 1)
    partitions.push({ from, to: from + rng.int(500, 8000), groups: [shuffled.slice(0, cut), shuffled.slice(cut)] })
  }
  const submissions = Array.from({ length: rng.int(1, 6) }, () => ({
    at: rng.int(0, 6000),
    node: rng.pick(honest),
    count: rng.int(1, 12)
  }))
  const restarts = n > 1 && rng.chance(0.35)
    ? rng.shuffle(honest).slice(0, rng.int(1, Math.min(2, honest.length))).map(node => ({ node, at: rng.int(0, 6000), downMs: rng.int(50, 4000) }))
    : []
  return { seed, n, faulty, network, partitions, submissions, restarts, settleMs: 90_000 }
}

export function describeScenario (s: Scenario): string {
  const faults = s.faulty.map(f => `v${f.index}:${f.behaviour}@${f.at}`).join(',') || 'none'
  const parts = [
    ...s.partitions.map(p => `${p.groups.map(g => g.join('')).join('|')}@${p.from}-${p.to}`),
    ...(s.proposalLoss ?? []).map(w => `no-proposals@${w.from}-${w.to}`)
  ].join(',') || 'none'
  const restarts = s.restarts.map(r => `v${r.node}@${r.at}+${r.downMs}`).join(',') || 'none'
  return `seed=${s.seed} n=${s.n} faulty=[${faults}] restarts=[${restarts}] delay=${s.network.minDelayMs}-${s.network.maxDelayMs}ms drop=${s.network.drop} dup=${s.network.duplicate} partitions=[${parts}] entries=${s.submissions.reduce((a, b) => a + b.count, 0)}`
}

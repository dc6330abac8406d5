/**
 * Gathering entries between blocks (minBlockIntervalMs): right after a commit, a height with
 * only submissions waiting starts when the interval is over, or at once when a full block of
 * entries is waiting or a peer has moved; an idle network proposes the moment a submission arrives.
 */
import { describe, expect, it } from 'vitest'
import { Machine, type Action } from '../../consensus/machine.js'
import { genesisTip, nothingCommitted, makeCommittedBlock, makeNetwork } from '../helpers/fixtures.js'
import { oneSubmission } from '../helpers/proposals.js'

const INTERVAL = 100
const net = makeNetwork(4, { params: { minBlockIntervalMs: INTERVAL, maxBlockEntries: 3 } })
// Height 2, round 0 is proposed by validator (2 + 0) % 4.
const PROPOSER = 2
const first = makeCommittedBlock(net, oneSubmission(net, 1, 100))
const T = first.block.header.time + 50

/** A validator that decided height 1 at time T. */
function afterCommit (index: number): Machine {
  const m = new Machine({ genesis: net.genesis, isCommitted: nothingCommitted, tip: genesisTip(net), self: { index, seed: net.seeds[index] as Uint8Array } })
  m.step({ type: 'message', message: { type: 'committed', block: first.block, commit: first.commit } }, T)
  expect(m.height).toBe(2)
  return m
}

const proposals = (actions: Action[]): number => actions.filter(a => a.type === 'broadcast' && a.message.type === 'proposal').length
const gatherTimers = (actions: Action[]): number[] => actions.flatMap(a => a.type === 'schedule' && a.timeout.kind === 'gather' ? [a.afterMs] : [])

describe('gathering entries between blocks', () => {
  it('waits out the interval after a commit, then proposes everything that came', () => {
    const m = afterCommit(PROPOSER)
    const early = m.step({ type: 'submit', submissions: oneSubmission(net, 1, 0) }, T + 10)
    expect(proposals(early)).toBe(0)
    expect(gatherTimers(early)).toEqual([INTERVAL - 10])
    // More entries in the meantime: no second timer, still no block.
    const more = m.step({ type: 'submit', submissions: oneSubmission(net, 1, 1) }, T + 40)
    expect(proposals(more)).toBe(0)
    expect(gatherTimers(more)).toEqual([])
    const woken = m.step({ type: 'timeout', timeout: { kind: 'gather', height: 2, round: 0 } }, T + INTERVAL)
    expect(proposals(woken)).toBe(1)
    const proposal = woken.find(a => a.type === 'broadcast' && a.message.type === 'proposal')
    expect(proposal?.type === 'broadcast' && proposal.message.type === 'proposal' ? proposal.message.proposal.block.header.entryCount : 0).toBe(2)
  })

  it('proposes at once when a full block is waiting', () => {
    const m = afterCommit(PROPOSER)
    expect(proposals(m.step({ type: 'submit', submissions: oneSubmission(net, 3, 0) }, T + 10))).toBe(1)
  })

  it('proposes at once when the last commit is older than the interval (idle network)', () => {
    const m = afterCommit(PROPOSER)
    const actions = m.step({ type: 'submit', submissions: oneSubmission(net, 1, 0) }, T + INTERVAL + 1)
    expect(proposals(actions)).toBe(1)
    expect(gatherTimers(actions)).toEqual([])
  })

  it('starts the height when a peer proposes, even within the interval', () => {
    const leader = afterCommit(PROPOSER)
    const follower = afterCommit(0)
    follower.step({ type: 'submit', submissions: oneSubmission(net, 1, 0) }, T + 10)
    expect(follower.currentStep).toBe('propose')
    const proposal = leader.step({ type: 'submit', submissions: oneSubmission(net, 3, 0) }, T + 10)
      .find(a => a.type === 'broadcast' && a.message.type === 'proposal')
    if (proposal?.type !== 'broadcast') throw new Error('the leader did not propose')
    const actions = follower.step({ type: 'message', message: proposal.message }, T + 20)
    expect(actions.some(a => a.type === 'broadcast' && a.message.type === 'vote' && a.message.vote.type === 'prevote' && a.message.vote.blockHash !== null)).toBe(true)
  })

  it('does not wait in a network without the parameter', () => {
    const plain = makeNetwork(4, { params: { minBlockIntervalMs: undefined } })
    const block = makeCommittedBlock(plain, oneSubmission(plain, 1, 100))
    const m = new Machine({ genesis: plain.genesis, isCommitted: nothingCommitted, tip: genesisTip(plain), self: { index: PROPOSER, seed: plain.seeds[PROPOSER] as Uint8Array } })
    m.step({ type: 'message', message: { type: 'committed', block: block.block, commit: block.commit } }, T)
    expect(proposals(m.step({ type: 'submit', submissions: oneSubmission(net, 1, 0) }, T + 1))).toBe(1)
  })
})

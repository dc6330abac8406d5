/**
 * Votes from rounds more than 50 ahead are not counted, but each validator's latest is kept: once
 * f+1 validators are known to have reached a round, a validator left behind jumps to it, however
 * far ahead, and counts their votes there. A single validator (possibly a liar) cannot move it.
 */
import { describe, expect, it } from 'vitest'
import { Machine } from '../../consensus/machine.js'
import { genesisTip, makeNetwork, nothingCommitted, signVote } from '../helpers/fixtures.js'
import { oneSubmission } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const validator = () => new Machine({ genesis: net.genesis, tip: genesisTip(net), self: { index: 0, seed: net.seeds[0] as Uint8Array }, isCommitted: nothingCommitted })

describe('rounds far ahead', () => {
  it('one validator far ahead does not move it; f+1 do, to the round both reached', () => {
    const m = validator()
    m.step({ type: 'submit', submissions: oneSubmission(net, 1), checked: true }, NOW)
    expect(m.currentRound).toBe(0)
    m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, 1, 'precommit', 1, 120, null) } }, NOW)
    m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, 1, 'prevote', 1, 130, null) } }, NOW)
    expect(m.currentRound).toBe(0)
    m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, 2, 'prevote', 1, 125, null) } }, NOW)
    // Validator 1 reached 130, validator 2 reached 125: both are at 125 or beyond.
    expect(m.currentRound).toBe(125)
    // Their votes of rounds within reach now count.
    const votes = m.inspect().heightState.votes
    expect(votes.peek(125, 'prevote')?.validators().sort()).toContain(2)
    expect(votes.peek(130, 'prevote')?.validators()).toEqual([1])
  })
})

/**
 * The next-height buffer: one message per (validator, round, slot), the latest BUFFERED_ROUNDS
 * rounds per validator, one validator's messages never displacing another's; drained by round,
 * proposals before votes.
 */
import { describe, expect, it } from 'vitest'
import { BUFFERED_ROUNDS, NextHeightBuffer, type BufferedMessage } from '../../consensus/next-height-buffer.js'
import { makeNetwork, genesisTip, signVote } from '../helpers/fixtures.js'
import { oneSubmission, signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const vote = (validator: number, round: number, type: 'prevote' | 'precommit' = 'prevote', hash: Uint8Array | null = null): BufferedMessage =>
  ({ type: 'vote', vote: signVote(net, validator, type, 2, round, hash) })
const describeAll = (messages: BufferedMessage[]): string[] =>
  messages.map(m => m.type === 'proposal' ? `proposal r${m.proposal.round}` : `${m.vote.type} r${m.vote.round} v${m.vote.validator}`)

describe('the next-height buffer', () => {
  it('keeps one message per validator, round and slot: a conflicting second one is not kept', () => {
    const b = new NextHeightBuffer()
    expect(b.add(1, vote(1, 0))).toBe(true)
    expect(b.add(1, vote(1, 0, 'prevote', new Uint8Array(32).fill(1)))).toBe(false)
    expect(b.add(1, vote(1, 0, 'precommit'))).toBe(true)
    expect(b.size).toBe(2)
  })

  it('keeps the latest rounds of each validator, and refuses rounds older than all it keeps once full', () => {
    const b = new NextHeightBuffer()
    for (let r = 0; r < BUFFERED_ROUNDS + 3; r++) b.add(3, vote(3, r))
    expect(b.add(3, vote(3, 0))).toBe(false)
    expect(b.add(0, vote(0, 0))).toBe(true)
    const rounds = b.drain().flatMap(m => m.type === 'vote' && m.vote.validator === 3 ? [m.vote.round] : [])
    expect(rounds).toEqual(Array.from({ length: BUFFERED_ROUNDS }, (_, i) => i + 3))
  })

  it('drains by round, proposals first, and is empty afterwards', () => {
    const b = new NextHeightBuffer()
    const proposal = signedProposal(net, { ...genesisTip(net), height: 1 }, 1, oneSubmission(net, 1), net.genesis.genesisTime + 1000)
    b.add(2, vote(2, 1, 'precommit'))
    b.add(0, vote(0, 0))
    b.add(net.validators.proposer(2, 1), { type: 'proposal', proposal })
    expect(describeAll(b.drain())).toEqual(['prevote r0 v0', 'proposal r1', 'precommit r1 v2'])
    expect(b.size).toBe(0)
    expect(b.drain()).toEqual([])
  })
})

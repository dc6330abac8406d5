/**
 * Messages of the next height wait in a buffer bounded per validator: one validator flooding it
 * cannot push out the others' messages, which are replayed once this validator gets there.
 */
import { describe, expect, it } from 'vitest'
import { headerHash } from '../../consensus/ids.js'
import { Machine, type Action } from '../../consensus/machine.js'
import { BUFFERED_ROUNDS } from '../../consensus/next-height-buffer.js'
import { genesisTip, makeCommittedBlock, makeNetwork, nothingCommitted, signVote, tipOf } from '../helpers/fixtures.js'
import { oneSubmission, signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const observer = () => new Machine({ genesis: net.genesis, tip: genesisTip(net), isCommitted: nothingCommitted })
const commits = (actions: Action[]) => actions.flatMap(a => a.type === 'commit' ? [a.block.header.height] : [])

describe('the next-height buffer', () => {
  it('a flood from one validator leaves room for the others, replayed after the commit', () => {
    const m = observer()
    const first = makeCommittedBlock(net, oneSubmission(net, 2))
    // Validator 3 floods height 2 with votes of a hundred rounds, before and after the others speak.
    const flood = (from: number) => {
      for (let r = from; r < from + 50; r++) {
        for (const type of ['prevote', 'precommit'] as const) m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, 3, type, 2, r, null) } }, NOW)
      }
    }
    flood(0)
    const proposal = signedProposal(net, tipOf(first.block), 0, oneSubmission(net, 2, 10), NOW)
    const hash = headerHash(proposal.block.header)
    m.step({ type: 'message', message: { type: 'proposal', proposal } }, NOW)
    for (const v of [0, 1, 2]) {
      for (const type of ['prevote', 'precommit'] as const) m.step({ type: 'message', message: { type: 'vote', vote: signVote(net, v, type, 2, 0, hash) } }, NOW)
    }
    flood(50)
    // The flooder's prevote and precommit of its latest BUFFERED_ROUNDS rounds; the others' seven all kept.
    expect(m.inspect().nextHeight).toBe(2 * BUFFERED_ROUNDS + 7)
    expect(m.height).toBe(1)
    const actions = m.step({ type: 'message', message: { type: 'committed', block: first.block, commit: first.commit } }, NOW)
    // Height 1 from the commit, and height 2 at once from the replayed proposal and precommits.
    expect(commits(actions)).toEqual([1, 2])
    expect(m.lastCommitted.hash).toEqual(hash)
    expect(m.inspect().nextHeight).toBe(0)
  })
})

/**
 * No entry twice on chain, judged by the machine with the committed-entry lookup it is given:
 * a proposal holding a committed entry gets a nil prevote, whether it arrives at its height,
 * waits in the next-height buffer while the block holding that entry is decided (the node has
 * not written it yet), or is restored from the log; a submission holding a committed entry never
 * enters the mempool, and a commit drops every pending submission holding one of its entries.
 */
import { describe, expect, it } from 'vitest'
import { entryAt } from '../../consensus/entries.js'
import { headerHash, toHex } from '../../consensus/ids.js'
import { Machine, type Action } from '../../consensus/machine.js'
import type { Submission } from '../../consensus/types.js'
import { genesisTip, makeCommittedBlock, makeEntries, makeEntry, makeNetwork, makeSubmission, nothingCommitted, tipOf } from '../helpers/fixtures.js'
import { oneSubmission, signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const lookup = (committed: Uint8Array[]) => {
  const entries = new Set(committed.map(toHex))
  return (entry: Uint8Array): boolean => entries.has(toHex(entry))
}
const validator = (index: number, isCommitted = nothingCommitted) =>
  new Machine({ genesis: net.genesis, tip: genesisTip(net), self: { index, seed: net.seeds[index] as Uint8Array }, isCommitted })
const prevotes = (actions: Action[]) => actions.flatMap(a => a.type === 'broadcast' && a.message.type === 'vote' && a.message.vote.type === 'prevote' ? [a.message.vote] : [])

describe('entries already on chain', () => {
  it('a fresh proposal holding one gets a nil prevote; without it, the block is prevoted', () => {
    const old = makeEntry(0)
    const bad = signedProposal(net, genesisTip(net), 0, [makeSubmission(net, [old]), makeSubmission(net, makeEntries(2, 1))], NOW)
    const refused = prevotes(validator(0, lookup([old])).step({ type: 'message', message: { type: 'proposal', proposal: bad } }, NOW))
    expect(refused.map(v => v.blockHash)).toEqual([null])
    const good = signedProposal(net, genesisTip(net), 0, [makeSubmission(net, makeEntries(2, 1))], NOW)
    const accepted = prevotes(validator(0, lookup([old])).step({ type: 'message', message: { type: 'proposal', proposal: good } }, NOW))
    expect(accepted.map(v => v.blockHash)).toEqual([headerHash(good.block.header)])
  })

  it('a next-height proposal buffered while the block holding its entry is decided gets a nil prevote right after the commit', () => {
    const first = makeCommittedBlock(net, oneSubmission(net, 3, 10))
    // Leader of height 2 proposes early, re-using an entry of height 1 (signed anew by its service).
    const reused = entryAt(first.block.submissions[0] as Submission, 1)
    const replay = signedProposal(net, tipOf(first.block), 0, [makeSubmission(net, [reused, ...makeEntries(2, 20)])], NOW)
    const clean = signedProposal(net, tipOf(first.block), 0, oneSubmission(net, 2, 20), NOW)
    for (const [proposal, expected] of [[replay, null], [clean, headerHash(clean.block.header)]] as const) {
      // The store's lookup knows nothing of height 1 yet: the node writes it when it carries out the commit.
      const m = validator(0)
      expect(m.step({ type: 'message', message: { type: 'proposal', proposal } }, NOW)).toEqual([])
      const actions = m.step({ type: 'message', message: { type: 'committed', block: first.block, commit: first.commit } }, NOW)
      expect(actions.map(a => a.type)).toContain('commit')
      expect(m.height).toBe(2)
      expect(prevotes(actions).map(v => [v.height, v.blockHash])).toEqual([[2, expected]])
    }
  })

  it('a restored proposal holding one is not valid any more', () => {
    const old = makeEntry(30)
    const proposal = signedProposal(net, genesisTip(net), 0, oneSubmission(net, 3, 30), NOW)
    const m = validator(0, lookup([old]))
    m.restore([{ type: 'proposal', proposal }])
    expect(m.inspect().heightState.proposals.get(0)?.valid).toBe(false)
    const clean = validator(0)
    clean.restore([{ type: 'proposal', proposal }])
    expect(clean.inspect().heightState.proposals.get(0)?.valid).toBe(true)
  })

  it('a submission holding one, submitted or gossiped, never enters the mempool; the others do', () => {
    const old = makeEntry(40)
    const stale = makeSubmission(net, [makeEntry(41), old])
    const fresh = makeSubmission(net, makeEntries(2, 42))
    const m = validator(0, lookup([old]))
    const actions = m.step({ type: 'submit', submissions: [stale, fresh], checked: true }, NOW)
    expect(m.mempoolSize).toBe(2)
    expect(actions).toContainEqual({ type: 'broadcast', message: { type: 'submissions', submissions: [fresh] } })
    const gossip = validator(1, lookup([old]))
    gossip.step({ type: 'message', message: { type: 'submissions', submissions: [stale] } }, NOW)
    expect(gossip.mempoolSize).toBe(0)
  })

  it('a commit drops every pending submission holding one of its entries, and the next block holds none of them', () => {
    // Validator 2 leads height 2, round 0; it holds three submissions, two overlapping the block committed at height 1.
    const m = validator(2)
    const first = makeCommittedBlock(net, oneSubmission(net, 3, 50))
    const overlapping = makeSubmission(net, [makeEntry(52), makeEntry(60)])
    const same = first.block.submissions[0] as Submission
    const apart = makeSubmission(net, makeEntries(2, 70))
    m.step({ type: 'submit', submissions: [same, overlapping, apart], checked: true }, NOW)
    expect(m.mempoolSize).toBe(7)
    m.step({ type: 'message', message: { type: 'committed', block: first.block, commit: first.commit } }, NOW + 1000)
    expect(m.height).toBe(2)
    expect(m.mempoolSize).toBe(2)
    // The height gathers entries for minBlockIntervalMs after the commit, then its leader proposes.
    const actions = m.step({ type: 'timeout', timeout: { kind: 'gather', height: 2, round: 0 } }, NOW + 1000 + (m.params.minBlockIntervalMs ?? 0))
    const proposals = actions.flatMap(a => a.type === 'broadcast' && a.message.type === 'proposal' ? [a.message.proposal] : [])
    expect(proposals.map(p => p.block.submissions)).toEqual([[apart]])
  })
})

/**
 * No record twice on chain, judged by the machine with the committed-id lookup it is given:
 * a proposal holding a committed record gets a nil prevote, whether it arrives at its height,
 * waits in the next-height buffer while the block holding that record is decided (the node has
 * not written it yet), or is restored from the log; committed records never enter the mempool.
 */
import { describe, expect, it } from 'vitest'
import { headerHash, recordId, toHex } from '../../consensus/ids.js'
import { Machine, type Action } from '../../consensus/machine.js'
import type { LedgerRecord } from '../../consensus/types.js'
import { genesisTip, makeCommittedBlock, makeNetwork, makeRecords, nothingCommitted, tipOf } from '../helpers/fixtures.js'
import { signedProposal } from '../helpers/proposals.js'

const net = makeNetwork(4)
const NOW = net.genesis.genesisTime + 10_000
const lookup = (committed: LedgerRecord[]) => {
  const ids = new Set(committed.map(r => toHex(recordId(r))))
  return (id: Uint8Array): boolean => ids.has(toHex(id))
}
const validator = (index: number, isCommitted = nothingCommitted) =>
  new Machine({ genesis: net.genesis, tip: genesisTip(net), self: { index, seed: net.seeds[index] as Uint8Array }, isCommitted })
const prevotes = (actions: Action[]) => actions.flatMap(a => a.type === 'broadcast' && a.message.type === 'vote' && a.message.vote.type === 'prevote' ? [a.message.vote] : [])

describe('records already on chain', () => {
  it('a fresh proposal holding one gets a nil prevote; without it, the block is prevoted', () => {
    const [old, ...fresh] = makeRecords(3)
    const bad = signedProposal(net, genesisTip(net), 0, [old as LedgerRecord, ...fresh], NOW)
    const refused = prevotes(validator(0, lookup([old as LedgerRecord])).step({ type: 'message', message: { type: 'proposal', proposal: bad } }, NOW))
    expect(refused.map(v => v.blockHash)).toEqual([null])
    const good = signedProposal(net, genesisTip(net), 0, fresh, NOW)
    const accepted = prevotes(validator(0, lookup([old as LedgerRecord])).step({ type: 'message', message: { type: 'proposal', proposal: good } }, NOW))
    expect(accepted.map(v => v.blockHash)).toEqual([headerHash(good.block.header)])
  })

  it('a next-height proposal buffered while the block holding its record is decided gets a nil prevote right after the commit', () => {
    const first = makeCommittedBlock(net, makeRecords(3, 10))
    // Leader of height 2 proposes early, re-using a record of height 1.
    const replay = signedProposal(net, tipOf(first.block), 0, [first.block.records[1] as LedgerRecord, ...makeRecords(2, 20)], NOW)
    const clean = signedProposal(net, tipOf(first.block), 0, makeRecords(2, 20), NOW)
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
    const [old, ...fresh] = makeRecords(3, 30)
    const proposal = signedProposal(net, genesisTip(net), 0, [old as LedgerRecord, ...fresh], NOW)
    const m = validator(0, lookup([old as LedgerRecord]))
    m.restore([{ type: 'proposal', proposal }])
    expect(m.inspect().heightState.proposals.get(0)?.valid).toBe(false)
    const clean = validator(0)
    clean.restore([{ type: 'proposal', proposal }])
    expect(clean.inspect().heightState.proposals.get(0)?.valid).toBe(true)
  })

  it('submitted or gossiped, they never enter the mempool', () => {
    const [old, fresh] = makeRecords(2, 40) as [LedgerRecord, LedgerRecord]
    const m = validator(0, lookup([old]))
    const actions = m.step({ type: 'submit', records: [old, fresh], checked: true }, NOW)
    expect(m.mempoolSize).toBe(1)
    expect(m.pendingRecord(recordId(old))).toBeUndefined()
    expect(m.pendingRecord(recordId(fresh))).toBe(fresh)
    expect(actions).toContainEqual({ type: 'broadcast', message: { type: 'records', records: [fresh] } })
    const gossip = validator(1, lookup([old]))
    gossip.step({ type: 'message', message: { type: 'records', records: [old] } }, NOW)
    expect(gossip.mempoolSize).toBe(0)
  })
})

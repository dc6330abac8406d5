/**
 * Rebuilding a compact proposal (header + ids): records come from the local pool or from peers,
 * each checked against its id, and the ids against the signed header.
 */
import { describe, expect, it } from 'vitest'
import { recordId, toHex } from '../../consensus/ids.js'
import type { LedgerRecord } from '../../consensus/types.js'
import { toCompact } from '../../node/gossip-envelope.js'
import { assembleProposal } from '../../node/proposal-assembler.js'
import { makeCommittedBlock, makeNetwork, makeRecord, makeRecords } from '../helpers/fixtures.js'

const net = makeNetwork(4)
const records = makeRecords(6)
const { block } = makeCommittedBlock(net, records)
const proposal = { height: 1, round: 0, validRound: -1, block, signature: new Uint8Array(64) }
const compact = toCompact(proposal)
const byId = new Map(records.map(r => [toHex(recordId(r)), r]))

describe('assembling a compact proposal', () => {
  it('uses local records first and fetches only the missing ones', async () => {
    const asked: string[][] = []
    const rebuilt = await assembleProposal(compact, ['peer-a'], {
      local: id => toHex(id) === toHex(recordId(records[0] as LedgerRecord)) ? records[0] : undefined,
      fetch: async (_peer, ids) => { asked.push(ids.map(toHex)); return ids.map(id => byId.get(toHex(id)) ?? null) }
    })
    expect(rebuilt.block.records).toEqual(records)
    expect(asked).toEqual([records.slice(1).map(r => toHex(recordId(r)))])
  })

  it('asks the next peer for what the first did not have, and ignores records that are not the named ones', async () => {
    const rebuilt = await assembleProposal(compact, ['liar', 'honest'], {
      local: () => undefined,
      fetch: async (peer, ids) => peer === 'liar'
        ? ids.map((_, i) => makeRecord(1000 + i)) // well-formed, but not the records the header names
        : ids.map(id => byId.get(toHex(id)) ?? null)
    })
    expect(rebuilt.block.records).toEqual(records)
  })

  it('refuses ids that do not match the signed header, and gives up when nobody has a record', async () => {
    const forged = { ...compact, ids: [...compact.ids.slice(1), compact.ids[0] as Uint8Array] }
    await expect(assembleProposal(forged, [], { local: id => byId.get(toHex(id)), fetch: async () => [] })).rejects.toMatchObject({ code: 'INVALID_BLOCK', name: 'InvalidInputError' })
    await expect(assembleProposal(compact, ['nobody'], { local: () => undefined, fetch: async (_peer, ids) => ids.map(() => null) })).rejects.toMatchObject({ code: 'INVALID_BLOCK', name: 'RejectedInputError' })
  })

  it('checks records found locally against the signed header too', async () => {
    const wrong = makeRecord(999)
    await expect(assembleProposal(compact, [], { local: id => toHex(id) === toHex(compact.ids[2] as Uint8Array) ? wrong : byId.get(toHex(id)), fetch: async () => [] }))
      .rejects.toMatchObject({ code: 'INVALID_BLOCK', name: 'InvalidInputError' })
  })
})

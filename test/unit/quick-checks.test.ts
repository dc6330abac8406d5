/**
 * Quick checks vouch for decoded values on hot paths in place of their schemas. Whatever they
 * accept, the schema must accept too: every value below that breaks the schema in one place is
 * still refused, with the schema's own error.
 */
import { describe, expect, it } from 'vitest'
import { decode, encode } from '../../consensus/codec.js'
import { recordId } from '../../consensus/ids.js'
import { LIMITS } from '../../consensus/limits.js'
import { CertificateResponseSchema, SubmitResponseSchema } from '../../protocol/node-api.js'
import { decodeEnvelope } from '../../node/gossip-envelope.js'
import { makeCommittedBlock, makeNetwork, makeRecords, refusal } from '../helpers/fixtures.js'

const net = makeNetwork(4)
const { block, commit } = makeCommittedBlock(net, makeRecords(5))
const ids = block.records.map(recordId)
const REFUSED = { name: 'InvalidInputError', code: 'INVALID_FIELD' }

describe('quick checks accept only what their schema accepts', () => {
  it('submit responses', () => {
    const good = { status: ['committed', 'pending', 'pending'] }
    expect(decode(SubmitResponseSchema, encode(good))).toEqual(good)
    for (const bad of [{ status: ['committed', 'maybe'] }, { status: 'pending' }, { status: [], extra: 1 }, {}, [['pending']]]) {
      expect(refusal(() => decode(SubmitResponseSchema, encode(bad)))).toEqual(REFUSED)
    }
  })

  it('certificate responses', () => {
    const proof = { header: block.header, commit, recordIds: ids }
    expect(decode(CertificateResponseSchema, encode({ blocks: [proof, proof] }))).toEqual({ blocks: [proof, proof] })
    const bads = [
      { blocks: [{ ...proof, recordIds: [...ids, new Uint8Array(31)] }] },
      { blocks: [{ ...proof, recordIds: [...ids, 'ab'] }] },
      { blocks: [{ ...proof, extra: true }] },
      { blocks: [{ header: block.header, commit }] },
      { blocks: [{ ...proof, header: { ...block.header, height: 0 } }] },
      { blocks: [{ ...proof, header: { ...block.header, extra: 1 } }] },
      { blocks: [{ ...proof, commit: { ...commit, signatures: [] } }] },
      { blocks: Array.from({ length: 1001 }, () => ({ header: block.header, commit, recordIds: [] })) },
      { blocks: [], more: [] }
    ]
    for (const bad of bads) expect(refusal(() => decode(CertificateResponseSchema, encode(bad)))).toEqual(REFUSED)
  })

  it('compact proposals on the gossip topic', () => {
    const proposal = { height: 1, round: 0, validRound: -1, header: block.header, ids, signature: new Uint8Array(64) }
    const envelope = { kind: 'compact-proposal', proposal, resend: 0 }
    expect(decodeEnvelope(encode(envelope))).toEqual(envelope)
    const bads = [
      { ...envelope, proposal: { ...proposal, ids: [...ids, new Uint8Array(33)] } },
      { ...envelope, proposal: { ...proposal, ids: 'x' } },
      { ...envelope, proposal: { ...proposal, ids: Array.from({ length: LIMITS.blockRecordsCeiling + 1 }, () => ids[0]) } },
      { ...envelope, proposal: { ...proposal, signature: new Uint8Array(63) } },
      { ...envelope, proposal: { ...proposal, validRound: -2 } },
      { ...envelope, proposal: { ...proposal, header: { ...block.header, recordsRoot: new Uint8Array(3) } } },
      { ...envelope, proposal: { ...proposal, extra: 1 } },
      { ...envelope, resend: -1 },
      { ...envelope, kind: 'proposal' },
      { ...envelope, extra: 1 }
    ]
    for (const bad of bads) expect(refusal(() => decodeEnvelope(encode(bad))), JSON.stringify(Object.keys(bad))).toMatchObject({ name: 'InvalidInputError' })
  })
})

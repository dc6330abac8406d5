import * as cborg from 'cborg'
import { describe, expect, it } from 'vitest'
import { buildCertificate } from '../../consensus/certificate.js'
import { decode, encode, equalBytes, validate } from '../../consensus/codec.js'
import { LIMITS } from '../../consensus/limits.js'
import { decodeMessage, encodeMessage } from '../../consensus/messages.js'
import { proposalSignBytes } from '../../consensus/sign-bytes.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import {
  BlockHeaderSchema, BlockSchema, CertificateSchema, CommitSchema, CommitSignatureSchema, ConsensusMessageSchema,
  ConsensusParamsSchema, GenesisSchema, InclusionProofSchema, LedgerRecordSchema, ProposalSchema, RecordMetadataSchema,
  ServiceSchema, SubmissionSchema, ValidatorSchema, VoteSchema, type ConsensusMessage, type Proposal
} from '../../consensus/types.js'
import { makeCommittedBlock, makeEntries, makeNetwork, makeRecord, makeSubmission, refusal, signVote, testSalt } from '../helpers/fixtures.js'

const net = makeNetwork(4, { services: 2 })
const submission = makeSubmission(net, makeEntries(3))
const { block, commit, hash } = makeCommittedBlock(net, [submission, makeSubmission(net, makeEntries(2, 3), 1)])
const record = makeRecord(7)
const prevote = signVote(net, 1, 'prevote', 1, 0, hash)
const nilVote = signVote(net, 2, 'precommit', 1, 3, null)
const proposal: Proposal = {
  height: 1,
  round: 0,
  validRound: -1,
  block,
  signature: defaultEd25519.sign(net.seeds[1] as Uint8Array, proposalSignBytes(net.genesis.chainId, 1, 0, -1, hash))
}
const certificate = buildCertificate(block, commit, 1, makeRecord(1), testSalt(1))

const refused = (code: string) => ({ name: 'InvalidInputError', code })
const utf8 = new TextEncoder()

/** Raw CBOR map with entries in the order given (cborg would sort them). */
function rawMap (entries: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0xa0 + entries.length)]
  for (const [k, v] of entries) parts.push(cborg.encode(k), v)
  return concat(parts)
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** Replace the only occurrence of `find` in `bytes`. */
function patch (bytes: Uint8Array, find: Uint8Array, replace: Uint8Array): Uint8Array {
  const hits: number[] = []
  for (let i = 0; i + find.length <= bytes.length; i++) if (equalBytes(bytes.subarray(i, i + find.length), find)) hits.push(i)
  expect(hits).toHaveLength(1)
  const at = hits[0] as number
  return concat([bytes.subarray(0, at), replace, bytes.subarray(at + find.length)])
}

const key = (k: string) => cborg.encode(k)

describe('codec round trips', () => {
  const cases: Array<[string, Parameters<typeof decode>[0], unknown]> = [
    ['RecordMetadata (full)', RecordMetadataSchema, record.meta],
    ['RecordMetadata (empty)', RecordMetadataSchema, {}],
    ['LedgerRecord', LedgerRecordSchema, record],
    ['LedgerRecord (no metadata)', LedgerRecordSchema, makeRecord(8, { meta: {} })],
    ['Submission', SubmissionSchema, submission],
    ['Service', ServiceSchema, net.genesis.services[0]],
    ['BlockHeader', BlockHeaderSchema, block.header],
    ['Block', BlockSchema, block],
    ['Block (empty)', BlockSchema, makeCommittedBlock(net, []).block],
    ['Vote (block)', VoteSchema, prevote],
    ['Vote (nil)', VoteSchema, nilVote],
    ['Proposal', ProposalSchema, proposal],
    ['CommitSignature', CommitSignatureSchema, commit.signatures[0]],
    ['Commit', CommitSchema, commit],
    ['ConsensusParams', ConsensusParamsSchema, net.genesis.params],
    ['Validator', ValidatorSchema, net.genesis.validators[0]],
    ['Genesis', GenesisSchema, net.genesis],
    ['InclusionProof', InclusionProofSchema, certificate.proof],
    ['Certificate', CertificateSchema, certificate]
  ]
  for (const [name, schema, value] of cases) {
    it(`${name}: decode(encode(v)) equals v and re-encodes to the same bytes`, () => {
      const bytes = encode(value)
      const back = decode(schema, bytes)
      expect(back).toEqual(value)
      expect(encode(back)).toEqual(bytes)
    })
  }

  const messages: ConsensusMessage[] = [
    { type: 'proposal', proposal },
    { type: 'vote', vote: prevote },
    { type: 'vote', vote: nilVote },
    { type: 'committed', block, commit },
    { type: 'submissions', submissions: block.submissions }
  ]
  for (const m of messages) {
    it(`ConsensusMessage ${m.type}: encodeMessage/decodeMessage round trip`, () => {
      const bytes = encodeMessage(m)
      expect(decodeMessage(bytes)).toEqual(m)
      expect(decode(ConsensusMessageSchema, bytes)).toEqual(m)
    })
  }
})

describe('canonical encoding: same value, same bytes', () => {
  it('does not depend on the order fields were written in', () => {
    const reordered = { service: record.service, meta: { clientTime: record.meta.clientTime, owner: record.meta.owner, contentType: record.meta.contentType, size: record.meta.size, name: record.meta.name }, dataHash: record.dataHash, v: record.v }
    expect(encode(reordered)).toEqual(encode(record))
  })

  it('does not depend on the byte array object (copy, Buffer, subarray view)', () => {
    const big = new Uint8Array(40)
    big.set(record.dataHash, 5)
    const variants = [Uint8Array.from(record.dataHash), Buffer.from(record.dataHash), big.subarray(5, 37)]
    for (const dataHash of variants) expect(encode({ ...record, dataHash })).toEqual(encode(record))
  })

  it('treats an optional field set to undefined as absent (and decode accepts the bytes)', () => {
    const withUndefined = { ...record, meta: { name: 'a', owner: undefined } }
    const parsed = validate(LedgerRecordSchema, withUndefined)
    const bytes = encode(parsed)
    expect(bytes).toEqual(encode({ ...record, meta: { name: 'a' } }))
    expect(decode(LedgerRecordSchema, bytes)).toEqual({ ...record, meta: { name: 'a' } })
  })

  it('is stable across calls', () => {
    expect(encode(certificate)).toEqual(encode(structuredClone(certificate)))
  })
})

describe('decode refuses', () => {
  it('input over the size limit with OVERSIZED, before parsing it', () => {
    const bytes = encode(prevote)
    expect(refusal(() => decode(VoteSchema, bytes, bytes.length - 1))).toEqual(refused('OVERSIZED'))
    expect(decode(VoteSchema, bytes, bytes.length)).toEqual(prevote)
    // garbage over the default message limit is refused for its size, not parsed
    expect(refusal(() => decodeMessage(new Uint8Array(LIMITS.messageBytes + 1).fill(0xff)))).toEqual(refused('OVERSIZED'))
  })

  it('garbage, truncated and trailing bytes with MALFORMED', () => {
    const good = encode(prevote)
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(0xff),
      Uint8Array.of(0x1c), // reserved additional info
      utf8.encode('{"type":"prevote"}'),
      good.subarray(0, good.length - 1),
      good.subarray(0, 10),
      concat([good, Uint8Array.of(0)]),
      concat([good, good])
    ]
    for (const bytes of inputs) expect(refusal(() => decode(VoteSchema, bytes))).toEqual(refused('MALFORMED'))
  })

  it('non-bytes input with MALFORMED', () => {
    expect(refusal(() => decode(VoteSchema, 'abc' as unknown as Uint8Array))).toEqual(refused('MALFORMED'))
    expect(refusal(() => decode(VoteSchema, [1, 2] as unknown as Uint8Array))).toEqual(refused('MALFORMED'))
  })

  it('CBOR features the format never uses with MALFORMED: tags, undefined, NaN, Infinity, indefinite lengths, big integers, duplicate keys', () => {
    const inputs = [
      Uint8Array.of(0xc1, 0x01), // tag 1 (epoch time)
      Uint8Array.of(0xf7), // undefined
      Uint8Array.of(0xf9, 0x7e, 0x00), // NaN
      Uint8Array.of(0xf9, 0x7c, 0x00), // Infinity
      Uint8Array.of(0x9f, 0x01, 0xff), // indefinite-length array
      Uint8Array.of(0x5f, 0x41, 0x00, 0xff), // indefinite-length byte string
      Uint8Array.of(0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0), // 2^53, beyond safe integers
      Uint8Array.of(0x3b, 0x00, 0x20, 0, 0, 0, 0, 0, 0), // -2^53-1
      Uint8Array.of(0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x01), // {"a":1,"a":1}
      Uint8Array.of(0xa1, 0x01, 0x01) // {1:1}, non-string key
    ]
    for (const bytes of inputs) expect(refusal(() => decode(InclusionProofSchema, bytes))).toEqual(refused('MALFORMED'))
  })

  it('a non-minimal integer encoding with NON_CANONICAL', () => {
    const bytes = encode(prevote) // round 0, height 1
    const roundKey = key('round')
    const nonMinimal = [
      patch(bytes, concat([roundKey, Uint8Array.of(0x00)]), concat([roundKey, Uint8Array.of(0x18, 0x00)])),
      patch(bytes, concat([roundKey, Uint8Array.of(0x00)]), concat([roundKey, Uint8Array.of(0x19, 0x00, 0x00)])),
      patch(bytes, concat([roundKey, Uint8Array.of(0x00)]), concat([roundKey, Uint8Array.of(0x1a, 0, 0, 0, 0)])),
      patch(bytes, concat([key('height'), Uint8Array.of(0x01)]), concat([key('height'), Uint8Array.of(0x1b, 0, 0, 0, 0, 0, 0, 0, 1)]))
    ]
    for (const b of nonMinimal) expect(refusal(() => decode(VoteSchema, b))).toEqual(refused('NON_CANONICAL'))
  })

  it('a non-minimal length (byte string, text, array, map) with NON_CANONICAL', () => {
    const bytes = encode(prevote)
    const hashHead = concat([key('blockHash'), Uint8Array.of(0x58, 0x20)])
    expect(refusal(() => decode(VoteSchema, patch(bytes, hashHead, concat([key('blockHash'), Uint8Array.of(0x59, 0x00, 0x20)])))))
      .toEqual(refused('NON_CANONICAL'))
    expect(refusal(() => decode(VoteSchema, patch(bytes, key('type'), Uint8Array.of(0x78, 0x04, ...utf8.encode('type'))))))
      .toEqual(refused('NON_CANONICAL'))
    expect(refusal(() => decode(InclusionProofSchema, rawMap([['index', Uint8Array.of(0)], ['siblings', Uint8Array.of(0x98, 0x00)]]))))
      .toEqual(refused('NON_CANONICAL'))
    expect(refusal(() => decode(InclusionProofSchema, concat([Uint8Array.of(0xb8, 0x02), rawMap([['index', Uint8Array.of(0)], ['siblings', Uint8Array.of(0x80)]]).subarray(1)]))))
      .toEqual(refused('NON_CANONICAL'))
  })

  it('unsorted map keys with NON_CANONICAL', () => {
    const sorted = rawMap([['index', Uint8Array.of(0)], ['siblings', Uint8Array.of(0x80)]])
    expect(sorted).toEqual(encode({ index: 0, siblings: [] }))
    expect(decode(InclusionProofSchema, sorted)).toEqual({ index: 0, siblings: [] })
    const unsorted = rawMap([['siblings', Uint8Array.of(0x80)], ['index', Uint8Array.of(0)]])
    expect(refusal(() => decode(InclusionProofSchema, unsorted))).toEqual(refused('NON_CANONICAL'))
    // a whole vote with its fields in reverse canonical order
    const entries = Object.entries(prevote).map(([k, v]) => [k, encode(v)] as [string, Uint8Array])
    const canonical = encode(prevote)
    const reversed = rawMap(entries.sort((a, b) => Buffer.compare(Buffer.from(encode(b[0])), Buffer.from(encode(a[0])))))
    expect(reversed).not.toEqual(canonical)
    expect(refusal(() => decode(VoteSchema, reversed))).toEqual(refused('NON_CANONICAL'))
  })

  it('a float where an integer is expected: NON_CANONICAL when a shorter form exists, INVALID_FIELD otherwise', () => {
    const bytes = encode({ ...prevote, round: 5 })
    const at = (b: number[]) => concat([key('round'), Uint8Array.from(b)])
    const f64Five = [0xfb, 0x40, 0x14, 0, 0, 0, 0, 0, 0]
    const f16Five = [0xf9, 0x45, 0x00]
    const f16OneAndHalf = [0xf9, 0x3e, 0x00]
    const f64OneAndHalf = [0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]
    expect(refusal(() => decode(VoteSchema, patch(bytes, at([0x05]), at(f64Five))))).toEqual(refused('NON_CANONICAL'))
    expect(refusal(() => decode(VoteSchema, patch(bytes, at([0x05]), at(f16Five))))).toEqual(refused('NON_CANONICAL'))
    expect(refusal(() => decode(VoteSchema, patch(bytes, at([0x05]), at(f64OneAndHalf))))).toEqual(refused('NON_CANONICAL'))
    expect(refusal(() => decode(VoteSchema, patch(bytes, at([0x05]), at(f16OneAndHalf))))).toEqual(refused('INVALID_FIELD'))
    // negative zero is encoded as the integer 0, so its float form is not canonical either
    expect(refusal(() => decode(InclusionProofSchema, rawMap([['index', Uint8Array.of(0xf9, 0x80, 0x00)], ['siblings', Uint8Array.of(0x80)]]))))
      .toEqual(refused('NON_CANONICAL'))
  })

  it('unknown extra fields with INVALID_FIELD, at every level', () => {
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, extra: 1 })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, meta: { ...record.meta, color: 'red' } })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(CertificateSchema, encode({ ...certificate, note: 'x' })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(CertificateSchema, encode({ ...certificate, header: { ...certificate.header, extra: 0 } })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(GenesisSchema, encode({ ...net.genesis, params: { ...net.genesis.params, turbo: true } })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decodeMessage(encode({ type: 'vote', vote: prevote, extra: 1 })))).toEqual(refused('INVALID_FIELD'))
  })

  it('missing fields, wrong types and unknown message types with INVALID_FIELD', () => {
    const { signature: _signature, ...unsigned } = prevote
    expect(refusal(() => decode(VoteSchema, encode(unsigned)))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, height: '1' })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, type: 'commit' })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode([prevote])))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decodeMessage(encode({ type: 'gossip', vote: prevote })))).toEqual(refused('INVALID_FIELD'))
  })

  it('integers out of range with INVALID_FIELD', () => {
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, height: 0 })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, round: -1 })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, round: LIMITS.roundCeiling + 1 })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, validator: LIMITS.validatorsCeiling })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(ProposalSchema, encode({ ...proposal, validRound: -2 })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(BlockHeaderSchema, encode({ ...block.header, entryCount: LIMITS.blockEntriesCeiling + 1 })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(SubmissionSchema, encode({ ...submission, service: LIMITS.servicesCeiling })))).toEqual(refused('INVALID_FIELD'))
  })

  it('hashes, signatures and public keys of the wrong length with INVALID_FIELD', () => {
    for (const len of [0, 31, 33, 64]) {
      expect(refusal(() => decode(VoteSchema, encode({ ...prevote, blockHash: new Uint8Array(len) })))).toEqual(refused('INVALID_FIELD'))
      expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, dataHash: new Uint8Array(len) })))).toEqual(refused('INVALID_FIELD'))
      expect(refusal(() => decode(BlockHeaderSchema, encode({ ...block.header, prevHash: new Uint8Array(len) })))).toEqual(refused('INVALID_FIELD'))
      expect(refusal(() => decode(BlockHeaderSchema, encode({ ...block.header, entriesRoot: new Uint8Array(len) })))).toEqual(refused('INVALID_FIELD'))
      expect(refusal(() => decode(InclusionProofSchema, encode({ index: 0, siblings: [new Uint8Array(len)] })))).toEqual(refused('INVALID_FIELD'))
      expect(refusal(() => decode(ValidatorSchema, encode({ name: 'v', publicKey: new Uint8Array(len) })))).toEqual(refused('INVALID_FIELD'))
    }
    for (const len of [0, 32, 63, 65]) {
      expect(refusal(() => decode(VoteSchema, encode({ ...prevote, signature: new Uint8Array(len) })))).toEqual(refused('INVALID_FIELD'))
      expect(refusal(() => decode(CommitSchema, encode({ ...commit, signatures: [{ validator: 0, signature: new Uint8Array(len) }] })))).toEqual(refused('INVALID_FIELD'))
    }
    // a hash given as text or as an array of numbers is not bytes
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, blockHash: 'ab'.repeat(32) })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(VoteSchema, encode({ ...prevote, blockHash: [...hash] })))).toEqual(refused('INVALID_FIELD'))
  })

  it('entry lists that are not whole 32-byte entries, empty, or over a submission\'s bound, and gossip of no or too many submissions, with INVALID_FIELD', () => {
    for (const length of [0, 31, 33, 32 * 3 + 1]) {
      expect(refusal(() => decode(SubmissionSchema, encode({ ...submission, entries: new Uint8Array(length) })))).toEqual(refused('INVALID_FIELD'))
    }
    expect(decode(SubmissionSchema, encode({ ...submission, entries: new Uint8Array(32 * LIMITS.submissionEntriesCeiling) }))).toBeDefined()
    expect(refusal(() => decode(SubmissionSchema, encode({ ...submission, entries: new Uint8Array(32 * (LIMITS.submissionEntriesCeiling + 1)) })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decodeMessage(encode({ type: 'submissions', submissions: [] })))).toEqual(refused('INVALID_FIELD'))
    const many = Array.from({ length: LIMITS.gossipSubmissionsCeiling + 1 }, () => submission)
    expect(refusal(() => decodeMessage(encode({ type: 'submissions', submissions: many })))).toEqual(refused('INVALID_FIELD'))
  })

  it('metadata and identifiers over their limits (in UTF-8 bytes) with INVALID_FIELD, and accepts them at the limit', () => {
    const limits: Array<[keyof typeof record.meta, number]> = [['name', LIMITS.nameChars], ['contentType', LIMITS.contentTypeChars], ['owner', LIMITS.ownerChars]]
    for (const [field, max] of limits) {
      const at = { ...record, meta: { ...record.meta, [field]: 'x'.repeat(max) } }
      expect(decode(LedgerRecordSchema, encode(at))).toEqual(at)
      expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, meta: { ...record.meta, [field]: 'x'.repeat(max + 1) } })))).toEqual(refused('INVALID_FIELD'))
      // within the limit in characters, over it in bytes
      expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, meta: { ...record.meta, [field]: 'é'.repeat(max / 2 + 1) } })))).toEqual(refused('INVALID_FIELD'))
    }
    expect(decode(LedgerRecordSchema, encode({ ...record, service: 's'.repeat(LIMITS.serviceIdChars) }))).toBeDefined()
    expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, service: 's'.repeat(LIMITS.serviceIdChars + 1) })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, service: '' })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(BlockHeaderSchema, encode({ ...block.header, chainId: 'c'.repeat(LIMITS.chainIdChars + 1) })))).toEqual(refused('INVALID_FIELD'))
    expect(refusal(() => decode(GenesisSchema, encode({ ...net.genesis, chainId: '' })))).toEqual(refused('INVALID_FIELD'))
  })

  it('control characters in text with INVALID_FIELD', () => {
    for (const bad of ['a\nb', 'a\u0000', '\u001b[31mred', 'del\u007f']) {
      expect(refusal(() => decode(LedgerRecordSchema, encode({ ...record, meta: { ...record.meta, name: bad } })))).toEqual(refused('INVALID_FIELD'))
    }
  })

  it('a record whose encoding exceeds the record bound is refused for its size when the caller passes it', () => {
    const bytes = encode(record)
    expect(bytes.length).toBeLessThanOrEqual(LIMITS.recordBytes)
    expect(refusal(() => decode(LedgerRecordSchema, new Uint8Array(LIMITS.recordBytes + 1), LIMITS.recordBytes))).toEqual(refused('OVERSIZED'))
  })

  it('validate gives INVALID_FIELD with the path of the first problem', () => {
    try {
      validate(CertificateSchema, { ...certificate, commit: { ...commit, signatures: [{ validator: 0, signature: new Uint8Array(3) }] } })
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({ name: 'InvalidInputError', code: 'INVALID_FIELD', details: { path: 'commit.signatures.0.signature' } })
    }
  })
})

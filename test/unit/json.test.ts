import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildCertificate, verifyCertificate } from '../../consensus/certificate.js'
import { encode } from '../../consensus/codec.js'
import { blockFromJson, certificateFromJson, fromJson, fromJsonText, genesisFromJson, toJson, toJsonText, type Json } from '../../consensus/json.js'
import { CertificateSchema, GenesisSchema, SubmissionSchema, VoteSchema, hash32 } from '../../consensus/types.js'
import { makeCommittedBlock, makeEntries, makeNetwork, makeRecord, makeSubmission, refusal, signVote, testSalt } from '../helpers/fixtures.js'

const net = makeNetwork(4, { services: 2 })
const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(3)), makeSubmission(net, makeEntries(2, 3), 1)])
const cert = buildCertificate(block, commit, 2, makeRecord(2), testSalt(2))
const valid = { valid: true, service: 'service-test', height: 1 }
const refused = (code: string) => ({ name: 'InvalidInputError', code })

/** The certificate as parsed JSON, to edit field by field. */
const certJson = () => JSON.parse(toJsonText(cert)) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

describe('toJson', () => {
  it('writes every byte field of a certificate as lowercase hex', () => {
    const j = certJson()
    const hex64 = /^[0-9a-f]{64}$/
    const hex128 = /^[0-9a-f]{128}$/
    expect(j.v).toBe(3)
    expect(j.record.dataHash).toMatch(hex64)
    expect(j.salt).toMatch(hex64)
    expect(j.header.prevHash).toMatch(hex64)
    expect(j.header.genesisHash).toMatch(hex64)
    expect(j.header.entriesRoot).toMatch(hex64)
    expect(j.header.entryCount).toBe(5)
    expect(j.commit.blockHash).toMatch(hex64)
    for (const s of j.commit.signatures) expect(s.signature).toMatch(hex128)
    expect(j.proof.siblings.length).toBeGreaterThan(0)
    for (const s of j.proof.siblings) expect(s).toMatch(hex64)
    expect(j.record.dataHash).toBe(Buffer.from(cert.record.dataHash).toString('hex'))
    expect(j.header.height).toBe(1)
    expect(j.record.meta).toEqual(cert.record.meta)
  })

  it('writes genesis public keys as hex', () => {
    const j = toJson(net.genesis) as { validators: Array<{ publicKey: string }> }
    expect(j.validators.map(v => v.publicKey)).toEqual(net.genesis.validators.map(v => Buffer.from(v.publicKey).toString('hex')))
    const k = toJson(net.genesis) as { services: Array<{ name: string, publicKey: string }> }
    expect(k.services.map(s => s.publicKey)).toEqual(net.genesis.services.map(s => Buffer.from(s.publicKey).toString('hex')))
  })

  it('writes a submission\'s entries as one hex string of 32 bytes per entry', () => {
    const j = toJson(block) as { submissions: Array<{ service: number, entries: string, signature: string }> }
    expect(j.submissions.map(s => s.entries.length)).toEqual([3 * 64, 2 * 64])
    expect(j.submissions[1]?.service).toBe(1)
    expect(j.submissions[0]?.signature).toMatch(/^[0-9a-f]{128}$/)
  })

  it('leaves out undefined fields, keeps null, and refuses values JSON cannot hold', () => {
    expect(toJson({ a: 1, b: undefined, c: null })).toEqual({ a: 1, c: null })
    expect(() => toJson(Number.NaN)).toThrow(TypeError)
    expect(() => toJson({ x: Infinity })).toThrow(TypeError)
    expect(() => toJson(10n)).toThrow(TypeError)
    expect(() => toJson({ when: new Date(0) })).toThrow(TypeError)
    expect(() => toJson(new Map())).toThrow(TypeError)
    expect(toJson(Object.assign(Object.create(null), { a: 1 }))).toEqual({ a: 1 })
  })
})

describe('fromJson round trips', () => {
  it('certificate: same value, same canonical bytes, still verifies', () => {
    const back = certificateFromJson(certJson())
    expect(back).toEqual(cert)
    expect(encode(back)).toEqual(encode(cert))
    expect(verifyCertificate(net.genesis, back)).toMatchObject(valid)
    expect(fromJsonText(CertificateSchema, toJsonText(cert))).toEqual(cert)
  })

  it('genesis and block', () => {
    expect(genesisFromJson(JSON.parse(toJsonText(net.genesis)))).toEqual(net.genesis)
    expect(blockFromJson(JSON.parse(toJsonText(block)))).toEqual(block)
    // the certificate verifies against a genesis that went through JSON
    expect(verifyCertificate(fromJsonText(GenesisSchema, toJsonText(net.genesis)), cert)).toMatchObject(valid)
    const submission = block.submissions[1]
    expect(fromJson(SubmissionSchema, JSON.parse(toJsonText(submission)))).toEqual(submission)
  })

  it('an attestation-like value keeps its null anchored entry, and reads a present one as bytes', () => {
    const entry = makeEntries(1)[0] as Uint8Array
    const schema = z.strictObject({ entry: hash32, anchored: hash32.nullable() })
    expect(fromJson(schema, JSON.parse(toJsonText({ entry, anchored: null })))).toEqual({ entry, anchored: null })
    expect(fromJson(schema, JSON.parse(toJsonText({ entry, anchored: entry })))).toEqual({ entry, anchored: entry })
  })

  it('a nil vote keeps its null block hash', () => {
    const vote = signVote(net, 0, 'prevote', 1, 0, null)
    expect(fromJson(VoteSchema, JSON.parse(toJsonText(vote)))).toEqual(vote)
  })
})

describe('fromJson refuses', () => {
  const edit = (change: (j: Record<string, any>) => void): Json => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const j = certJson()
    change(j)
    return j
  }

  it('uppercase, odd-length and non-hex byte fields with INVALID_FIELD', () => {
    const bad = [
      edit(j => { j.record.dataHash = (j.record.dataHash as string).toUpperCase() }),
      edit(j => { j.header.prevHash = (j.header.prevHash as string).slice(1) }),
      edit(j => { j.commit.blockHash = 'zz' + (j.commit.blockHash as string).slice(2) }),
      edit(j => { j.commit.signatures[0].signature = '0x' + (j.commit.signatures[0].signature as string).slice(2) }),
      edit(j => { j.proof.siblings[0] = ' ' + (j.proof.siblings[0] as string).slice(1) })
    ]
    for (const j of bad) expect(refusal(() => certificateFromJson(j))).toEqual(refused('INVALID_FIELD'))
  })

  it('byte fields of the wrong length, or not strings at all, with INVALID_FIELD', () => {
    const bad = [
      edit(j => { j.record.dataHash = (j.record.dataHash as string).slice(2) }),
      edit(j => { j.header.entriesRoot = (j.header.entriesRoot as string) + '00' }),
      edit(j => { j.salt = (j.salt as string).slice(2) }),
      edit(j => { j.salt = (j.salt as string) + '00' }),
      edit(j => { j.salt = null }),
      edit(j => { j.commit.signatures[0].signature = (j.commit.signatures[0].signature as string).slice(0, 126) }),
      edit(j => { j.proof.siblings[0] = '' }),
      edit(j => { j.record.dataHash = Array.from(cert.record.dataHash) }),
      edit(j => { j.record.dataHash = null }),
      edit(j => { j.proof.siblings = 'abcd' }),
      edit(j => { j.proof.siblings = [1, 2] })
    ]
    for (const j of bad) expect(refusal(() => certificateFromJson(j))).toEqual(refused('INVALID_FIELD'))
  })

  it('missing, extra and mistyped fields with INVALID_FIELD', () => {
    const bad = [
      edit(j => { delete j.proof }),
      edit(j => { j.extra = 1 }),
      edit(j => { j.header.height = '1' }),
      edit(j => { j.header.height = 1.5 }),
      edit(j => { j.header.time = 1e300 }),
      edit(j => { j.header.time = 2 ** 53 }),
      edit(j => { j.v = 1 }),
      edit(j => { j.record.v = 1 }),
      edit(j => { delete j.salt }),
      edit(j => { j.header.recordsRoot = j.header.entriesRoot; delete j.header.entriesRoot }),
      null, 42, 'certificate', [], {}
    ]
    for (const j of bad) expect(refusal(() => certificateFromJson(j))).toEqual(refused('INVALID_FIELD'))
  })

  it('a "__proto__" key as an unknown field, without touching any prototype', () => {
    const text = toJsonText(cert).replace('{"v":2,', '{"__proto__":{"polluted":true},"v":2,')
    expect(text).toContain('__proto__')
    expect(refusal(() => fromJsonText(CertificateSchema, text))).toEqual(refused('INVALID_FIELD'))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('text that is not JSON with MALFORMED', () => {
    for (const text of ['', '{', '{"v":2,}', "{'v':2}", 'undefined', toJsonText(cert).slice(0, -1)]) {
      expect(refusal(() => fromJsonText(CertificateSchema, text))).toEqual(refused('MALFORMED'))
    }
    expect(refusal(() => fromJsonText(CertificateSchema, 42 as unknown as string))).toEqual(refused('MALFORMED'))
  })

  it('text over the size limit with OVERSIZED', () => {
    const text = toJsonText(cert)
    expect(refusal(() => fromJsonText(CertificateSchema, text, text.length - 1))).toEqual(refused('OVERSIZED'))
    expect(fromJsonText(CertificateSchema, text, text.length)).toEqual(cert)
  })

  it('deeply nested input with MALFORMED, without overflowing the stack', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    expect(refusal(() => fromJsonText(CertificateSchema, deep))).toEqual(refused('MALFORMED'))
    let nested: unknown = 1
    for (let i = 0; i < 100; i++) nested = { meta: nested }
    expect(refusal(() => certificateFromJson({ record: nested }))).toEqual(refused('MALFORMED'))
  })

  it('a genesis with a bad public key, and a block with a bad submission, with INVALID_FIELD', () => {
    const g = JSON.parse(toJsonText(net.genesis))
    g.validators[1].publicKey = 'ab'
    expect(refusal(() => genesisFromJson(g))).toEqual(refused('INVALID_FIELD'))
    const b = JSON.parse(toJsonText(block))
    b.submissions[0].entries = (b.submissions[0].entries as string).slice(2)
    expect(refusal(() => blockFromJson(b))).toEqual(refused('INVALID_FIELD'))
    const c = JSON.parse(toJsonText(block))
    c.submissions[1].entries = (c.submissions[1].entries as string).toUpperCase()
    expect(refusal(() => blockFromJson(c))).toEqual(refused('INVALID_FIELD'))
    const s = JSON.parse(toJsonText(net.genesis))
    s.services[0].publicKey = 'ab'
    expect(refusal(() => genesisFromJson(s))).toEqual(refused('INVALID_FIELD'))
  })
})

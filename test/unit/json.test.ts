import { describe, expect, it } from 'vitest'
import { buildCertificate, verifyCertificate } from '../../consensus/certificate.js'
import { encode } from '../../consensus/codec.js'
import { blockFromJson, certificateFromJson, fromJson, fromJsonText, genesisFromJson, toJson, toJsonText, type Json } from '../../consensus/json.js'
import { CertificateSchema, GenesisSchema, VoteSchema } from '../../consensus/types.js'
import { makeCommittedBlock, makeNetwork, makeRecords, refusal, signVote } from '../helpers/fixtures.js'

const net = makeNetwork(4)
const { block, commit } = makeCommittedBlock(net, makeRecords(5))
const cert = buildCertificate(block, commit, 3)
const refused = (code: string) => ({ name: 'InvalidInputError', code })

/** The certificate as parsed JSON, to edit field by field. */
const certJson = () => JSON.parse(toJsonText(cert)) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

describe('toJson', () => {
  it('writes every byte field of a certificate as lowercase hex', () => {
    const j = certJson()
    const hex64 = /^[0-9a-f]{64}$/
    const hex128 = /^[0-9a-f]{128}$/
    expect(j.record.dataHash).toMatch(hex64)
    expect(j.header.prevHash).toMatch(hex64)
    expect(j.header.recordsRoot).toMatch(hex64)
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
    expect(verifyCertificate(net.genesis, back)).toEqual({ valid: true })
    expect(fromJsonText(CertificateSchema, toJsonText(cert))).toEqual(cert)
  })

  it('genesis and block', () => {
    expect(genesisFromJson(JSON.parse(toJsonText(net.genesis)))).toEqual(net.genesis)
    expect(blockFromJson(JSON.parse(toJsonText(block)))).toEqual(block)
    // the certificate verifies against a genesis that went through JSON
    expect(verifyCertificate(fromJsonText(GenesisSchema, toJsonText(net.genesis)), cert)).toEqual({ valid: true })
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
      edit(j => { j.header.recordsRoot = (j.header.recordsRoot as string) + '00' }),
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
      edit(j => { j.v = 2 }),
      null, 42, 'certificate', [], {}
    ]
    for (const j of bad) expect(refusal(() => certificateFromJson(j))).toEqual(refused('INVALID_FIELD'))
  })

  it('a "__proto__" key as an unknown field, without touching any prototype', () => {
    const text = toJsonText(cert).replace('{"v":1,', '{"__proto__":{"polluted":true},"v":1,')
    expect(text).toContain('__proto__')
    expect(refusal(() => fromJsonText(CertificateSchema, text))).toEqual(refused('INVALID_FIELD'))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('text that is not JSON with MALFORMED', () => {
    for (const text of ['', '{', '{"v":1,}', "{'v':1}", 'undefined', toJsonText(cert).slice(0, -1)]) {
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

  it('a genesis with a bad public key, and a block with a bad record, with INVALID_FIELD', () => {
    const g = JSON.parse(toJsonText(net.genesis))
    g.validators[1].publicKey = 'ab'
    expect(refusal(() => genesisFromJson(g))).toEqual(refused('INVALID_FIELD'))
    const b = JSON.parse(toJsonText(block))
    b.records[2].meta.name = 'x'.repeat(300)
    expect(refusal(() => blockFromJson(b))).toEqual(refused('INVALID_FIELD'))
  })
})

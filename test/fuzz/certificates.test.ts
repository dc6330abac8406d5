/**
 * Fuzzing what clients read: canonical JSON (parseJson), certificates as JSON text, as JSON
 * values and as canonical CBOR, and the genesis. Random and mutated inputs get the decoder's typed
 * refusal (MALFORMED and friends, a verdict `valid: false`, GenesisError), never another throw,
 * and a mutated certificate is valid only when it still says exactly what the original said.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildCertificate, CertificateVerifier } from '../../consensus/certificate.js'
import { decode, encode } from '../../consensus/codec.js'
import { InvalidInputError } from '../../consensus/errors.js'
import { toHex } from '../../consensus/ids.js'
import { fromJsonText, parseJson, toJsonText } from '../../consensus/json.js'
import { CertificateSchema, type Certificate } from '../../consensus/types.js'
import { GenesisError } from '../../client/errors.js'
import { readGenesis, verifyCertificate } from '../../client/verify.js'
import { makeCommittedBlock, makeEntries, makeNetwork, makeRecord, makeSubmission, testSalt } from '../helpers/fixtures.js'
import { fuzzParams, fuzzTimeout, mutatedBytes, mutatedText } from './mutate.js'

const RUNS = 1500
const DECODING_CODES = ['MALFORMED', 'NON_CANONICAL', 'OVERSIZED', 'INVALID_FIELD']

const net = makeNetwork(4, { services: 2 })
const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(5))], { signers: [0, 1, 3] })
const certificates = [0, 3].map(i => buildCertificate(block, commit, i, makeRecord(i), testSalt(i)))
const canonical = new Set(certificates.map(c => toHex(encode(c))))
const texts = certificates.map(toJsonText)
const genesisText = toJsonText(net.genesis)
const verifier = new CertificateVerifier(net.genesis)

/** Whether a certificate read from mutated input is one of the originals, byte for byte in canonical form. */
const isOriginal = (cert: Certificate): boolean => canonical.has(toHex(encode(cert)))

describe('fuzzing canonical JSON and certificates', () => {
  it('parseJson refuses with MALFORMED or reads what JSON.parse reads', () => {
    const utf8 = new TextEncoder()
    fc.assert(fc.property(fc.oneof(mutatedText([...texts, genesisText, '{"a":[1,"\\ud83d\\ude00",{"b":null}]}']), fc.string({ unit: 'grapheme', maxLength: 60 })), fc.boolean(), (text, asBytes) => {
      let value: unknown
      try {
        value = parseJson(asBytes ? utf8.encode(text) : text)
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError)
        expect((err as InvalidInputError).code).toBe('MALFORMED')
        return
      }
      // Bytes are the text's UTF-8, where a lone surrogate has become U+FFFD.
      expect(value).toEqual(JSON.parse(asBytes ? new TextDecoder().decode(utf8.encode(text)) : text))
    }), fuzzParams(RUNS))
  }, fuzzTimeout(8_000, RUNS))

  it('a certificate as JSON text or value gets a verdict, valid only when it is the original', () => {
    let valid = 0
    fc.assert(fc.property(mutatedText(texts), text => {
      let json: unknown
      try { json = JSON.parse(text) } catch { json = text }
      for (const input of [text, json]) {
        const verdict = verifyCertificate(net.genesis, input)
        if (verdict.valid) {
          valid++
          expect(isOriginal(fromJsonText(CertificateSchema, typeof input === 'string' ? input : JSON.stringify(input)))).toBe(true)
        } else {
          expect(typeof verdict.reason).toBe('string')
        }
      }
    }), fuzzParams(RUNS))
    expect(valid).toBeGreaterThan(0)
  }, fuzzTimeout(10_000, RUNS))

  it('a certificate as canonical CBOR decodes with a typed refusal, and verifies only as the original', () => {
    fc.assert(fc.property(mutatedBytes(certificates.map(c => encode(c))), bytes => {
      let cert: Certificate
      try {
        cert = decode(CertificateSchema, bytes)
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInputError)
        expect(DECODING_CODES).toContain((err as InvalidInputError).code)
        return
      }
      const verdict = verifier.verifyChecked(cert)
      if (verdict.valid) expect(isOriginal(cert)).toBe(true)
    }), fuzzParams(RUNS))
  }, fuzzTimeout(8_000, RUNS))

  it('a genesis that cannot be read is a GenesisError (INVALID_GENESIS), whatever the text', () => {
    fc.assert(fc.property(mutatedText([genesisText]), text => {
      try {
        readGenesis(text)
      } catch (err) {
        expect(err).toBeInstanceOf(GenesisError)
        expect((err as GenesisError).code).toBe('INVALID_GENESIS')
      }
    }), fuzzParams(Math.floor(RUNS / 2)))
  }, fuzzTimeout(5_000, RUNS))
})

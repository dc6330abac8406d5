/**
 * Fuzzing what the service reads from validators (one of them may lie): random and mutated
 * answers to submit, certificate, verify and sync requests decode to the expected answer, or are
 * refused with InvalidInputError (a decoding code) or RemoteRefusalError, nothing else; and a
 * mutated attestation is counted only when it is an authentic one.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { InvalidInputError } from '../../consensus/errors.js'
import { toHex } from '../../consensus/ids.js'
import { fromJson, toJson } from '../../consensus/json.js'
import { tallyAttestations } from '../../client/verify.js'
import {
  AttestationSchema, CertificateResponseSchema, RemoteRefusalError, SubmitResponseSchema, SyncResponseSchema, VerifyResponseSchema,
  decodeResponse, signAttestation, type Attestation
} from '../../protocol/node-api.js'
import { makeCommittedBlock, makeEntries, makeEntry, makeNetwork, makeSubmission } from '../helpers/fixtures.js'
import { fuzzParams, fuzzTimeout, mutatedBytes, mutatedText } from './mutate.js'

const RUNS = 600
const DECODING_CODES = ['MALFORMED', 'NON_CANONICAL', 'OVERSIZED', 'INVALID_FIELD']

const net = makeNetwork(4)
const sealed = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))])
const entry = makeEntry(0)
const attestations: Attestation[] = [0, 1, 2].map(v => signAttestation({ chainId: net.genesis.chainId, entry, height: 1, index: 0, anchored: entry, outcome: 'match', validator: v, time: 1_700_000_001_000 }, net.seeds[v] as Uint8Array))
const refusal = encode({ error: { code: 'BAD_SIGNATURE', message: 'no' } })
const answers = [
  { name: 'submit', schema: SubmitResponseSchema, valid: [encode({ status: ['pending', 'committed'] }), refusal] },
  { name: 'certificate', schema: CertificateResponseSchema, valid: [encode({ blocks: [{ block: sealed.block, commit: sealed.commit }] }), refusal] },
  { name: 'verify', schema: VerifyResponseSchema, valid: [encode({ attestation: attestations[0] }), refusal] },
  { name: 'sync', schema: SyncResponseSchema, valid: [encode({ blocks: [{ block: sealed.block, commit: sealed.commit }] }), encode({ blocks: [] })] }
]

describe('fuzzing the answers of validators', () => {
  for (const { name, schema, valid } of answers) {
    it(`an answer is decoded, or refused with a decoding code or the node's refusal: ${name}`, () => {
      fc.assert(fc.property(mutatedBytes(valid), bytes => {
        try {
          decodeResponse(schema, bytes)
        } catch (err) {
          if (err instanceof RemoteRefusalError) {
            expect(typeof err.code).toBe('string')
            return
          }
          expect(err).toBeInstanceOf(InvalidInputError)
          expect(DECODING_CODES).toContain((err as InvalidInputError).code)
        }
      }), fuzzParams(RUNS))
    }, fuzzTimeout(5_000, RUNS))
  }

  it('mutated attestations (JSON) are counted only when authentic', () => {
    const authentic = new Set(attestations.map(a => toHex(encode(a))))
    /** The canonical bytes of what a value reads as, if it reads as an attestation. */
    const canonical = (v: unknown): string | undefined => { try { return toHex(encode(fromJson(AttestationSchema, v))) } catch { return undefined } }
    fc.assert(fc.property(fc.array(mutatedText(attestations.map(a => JSON.stringify(toJson(a)))), { minLength: 1, maxLength: 4 }), texts => {
      const values = texts.map(t => { try { return JSON.parse(t) as unknown } catch { return t } })
      const tally = tallyAttestations(net.genesis, toHex(entry), values)
      const genuine = new Set(values.map(canonical).filter(c => c !== undefined && authentic.has(c)))
      expect(tally.matches).toBeLessThanOrEqual(genuine.size)
      expect(tally.matches + tally.rejected).toBe(values.length)
    }), fuzzParams(RUNS))
  }, fuzzTimeout(5_000, RUNS))
})

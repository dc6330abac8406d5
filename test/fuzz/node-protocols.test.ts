/**
 * Fuzzing the requests a validator answers services and validators (submit, certificate, verify,
 * sync), through the real handlers over a real driver and store: random and mutated requests,
 * from a validator, a registered service or a stranger, are answered (a refusal with a stable
 * code, never INTERNAL; a submit is accepted only as sent by its own service), and the machine's
 * state is unchanged.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decode, encode } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { toHex } from '../../consensus/ids.js'
import { decodeResponse, ErrorResponseSchema, PROTOCOL, SubmitResponseSchema } from '../../protocol/node-api.js'
import { CertificateIssuer } from '../../node/certificates.js'
import { registerServiceProtocols } from '../../node/service-protocols.js'
import type { RequestResponse } from '../../net/request-response.js'
import { startDriver, type DriverHarness } from '../helpers/driver-harness.js'
import { makeEntries, makeEntry, makeNetwork, makeSubmission, TEST_GENESIS_TIME } from '../helpers/fixtures.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { fuzzParams, fuzzTimeout, mutatedBytes } from './mutate.js'

type Handler = (req: Uint8Array, from: string, opts: { signal: AbortSignal }) => Promise<Uint8Array>

const RUNS = 1000
const HOUR = 3_600_000
// No timer fires while the fuzzer runs: only its requests could change the machine.
const net = makeNetwork(4, { services: 2, params: { timeoutProposeMs: HOUR, timeoutVoteMs: HOUR, rebroadcastMs: HOUR } })
const self = [0, 1, 2, 3].find(i => i !== net.validators.proposer(1, 0)) as number
const PEERS = { validator: 'peer-validator-2', service0: 'peer-service-0', service1: 'peer-service-1', stranger: 'peer-stranger' }
const roles = {
  validator: (p: string) => p === PEERS.validator ? 2 : undefined,
  service: (p: string) => p === PEERS.service0 ? 0 : p === PEERS.service1 ? 1 : undefined
}

const submissions = [makeSubmission(net, makeEntries(3)), makeSubmission(net, makeEntries(1, 10), 1)]
const valid: Record<string, Uint8Array[]> = {
  [PROTOCOL.submit]: submissions.map(submission => encode({ submission })),
  [PROTOCOL.certificate]: [encode({ entries: makeEntries(2, 0).reduce((a, e) => new Uint8Array([...a, ...e]), new Uint8Array(0)), waitMs: 0 }), encode({ entries: makeEntry(5), waitMs: 30_000 })],
  [PROTOCOL.verify]: [encode({ entry: makeEntry(1), height: 1, index: 0 }), encode({ entry: makeEntry(2), height: 7, index: 3 })],
  [PROTOCOL.sync]: [encode({ fromHeight: 1, max: 50 }), encode({ fromHeight: 3, max: 1 })]
}
/** A submit of service i's submission is authentic only from service i itself (or a validator). */
const submitSender = new Map(valid[PROTOCOL.submit]?.map((b, i) => [toHex(b), i === 0 ? PEERS.service0 : PEERS.service1]))

let h: DriverHarness
const handlers = new Map<string, Handler>()
let before: string

beforeAll(async () => {
  h = await startDriver(net, self, () => TEST_GENESIS_TIME + 1000)
  const rr = { handle: async (protocol: string, handler: Handler) => { handlers.set(protocol, handler) } } as unknown as RequestResponse
  await registerServiceProtocols({
    rr,
    driver: h.driver,
    store: h.store,
    certificates: new CertificateIssuer(h.store),
    genesis: net.genesis,
    services: h.machine.services,
    ed: defaultEd25519,
    index: self,
    seed: net.seeds[self] as Uint8Array,
    now: () => TEST_GENESIS_TIME + 1000,
    roles
  })
  // The authentic submissions are in the mempool before the fuzzer starts: sending one again changes nothing.
  for (const [bytes, from] of submitSender) {
    const answer = await call(PROTOCOL.submit, Uint8Array.from(Buffer.from(bytes, 'hex')), from)
    expect(decodeResponse(SubmitResponseSchema, answer).status).toContain('pending')
  }
  before = machineDigest(h.machine)
})

afterAll(async () => { await h?.close() })

async function call (protocol: string, req: Uint8Array, from: string): Promise<Uint8Array> {
  const handler = handlers.get(protocol)
  if (handler === undefined) throw new Error(`no handler for ${protocol}`)
  // Already aborted: a certificate request does not wait for entries that will never come.
  return await handler(req, from, { signal: AbortSignal.abort() })
}

describe('fuzzing the node\'s request protocols', () => {
  for (const protocol of [PROTOCOL.submit, PROTOCOL.certificate, PROTOCOL.verify, PROTOCOL.sync]) {
    it(`${protocol}: every request is answered with a stable code or a valid answer, and the machine keeps its state`, async () => {
      const refused = new Set<string>()
      await fc.assert(fc.asyncProperty(mutatedBytes(valid[protocol] as Uint8Array[]), fc.constantFrom(...Object.values(PEERS)), async (req, from) => {
        const answer = await call(protocol, req, from)
        let code: string | undefined
        try {
          code = decode(ErrorResponseSchema, answer).error.code
        } catch {
          code = undefined
        }
        expect(code).not.toBe('INTERNAL')
        if (code !== undefined) refused.add(code)
        if (code === undefined && protocol === PROTOCOL.submit) {
          // Accepted: only an authentic submission, sent by its own service or a validator.
          expect([submitSender.get(toHex(req)), PEERS.validator]).toContain(from)
        }
        expect(machineDigest(h.machine)).toBe(before)
      }), fuzzParams(RUNS))
      // The inputs reach past the access check and the decoder.
      expect(refused.size).toBeGreaterThan(2)
    }, fuzzTimeout(8_000, RUNS))
  }
})

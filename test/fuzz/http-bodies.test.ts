/**
 * Fuzzing the service's HTTP door in process (fastify's inject: no sockets): random and mutated
 * bodies, queries, ids, content types and keys on every route that reads input. No answer is a
 * 5xx; every refusal is a 4xx in the API's error format and stores nothing; a request is stored
 * only when it was a valid anchor request of a known client.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCertificate } from '../../consensus/certificate.js'
import { toHex } from '../../consensus/ids.js'
import { toJsonText } from '../../consensus/json.js'
import { buildHttpApi } from '../../service/http-api.js'
import { ServiceStore } from '../../service/store.js'
import { makeCommittedBlock, makeEntries, makeNetwork, makeRecord, makeSubmission, testSalt, testServiceName } from '../helpers/fixtures.js'
import { ALICE, BOB, configuredKey } from '../helpers/service-harness.js'
import { fuzzParams, fuzzTimeout, mutatedText } from './mutate.js'

const RUNS = 600
const net = makeNetwork(4)
const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(3))])
const certificate = toJsonText(buildCertificate(block, commit, 1, makeRecord(1), testSalt(1)))
const HASH = toHex(makeEntries(1, 900)[0] as Uint8Array)

const BODIES: Record<string, string[]> = {
  '/v1/hashes': [JSON.stringify({ hash: HASH, metadata: { name: 'report.pdf', size: 12, contentType: 'application/pdf' } }), JSON.stringify({ hash: HASH })],
  '/v1/hashes/batch': [JSON.stringify({ hashes: [HASH, HASH.replace('a', 'b')], metadata: { name: 'n' } })],
  '/v1/certificates/verify': [certificate],
  '/v1/data/:id/verify': ['']
}
const QUERIES = ['', '?wait=false', '?wait=true', '?name=x', '?name=%E2%80%AEevil', '?name=a%00b', '?limit=5', '?after=00', `?dataHash=${HASH}`, '?wait=maybe&x=1', '?limit=0', '?a[b]=1']

let dir: string
let store: ServiceStore
let app: FastifyInstance
let writes = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trustnet-fuzz-http-'))
  store = new ServiceStore(join(dir, 'store'))
  await store.open()
  // Every write of an item goes through these two.
  for (const method of ['putItem', 'putItems'] as const) {
    const original = store[method].bind(store) as (...args: unknown[]) => Promise<unknown>
    Object.assign(store, { [method]: async (...args: unknown[]) => { writes++; return await original(...args) } })
  }
  app = await buildHttpApi({
    serviceId: testServiceName(0),
    apiKeys: [configuredKey(ALICE), configuredKey(BOB)],
    maxBodyBytes: 4096,
    certificateWaitMs: 0,
    genesis: net.genesis,
    store,
    outbox: { add: () => {}, waitForCertificate: async () => undefined, waitForCertificates: async ids => ids.map(() => undefined), stats: () => ({ certified: 0, inFlight: 0, queued: 0 }), failedItems: () => new Map(), unsettledOf: () => 0 },
    nodes: { verify: async () => { throw new Error('no node is asked in this test') } },
    now: () => 1_700_000_000_000,
    // Wrong keys are what the fuzzer sends most: their back-off would answer everything with 429.
    limits: { authFailures: { max: 1_000_000, windowMs: 60_000 } }
  })
  await app.ready()
})

afterAll(async () => {
  await app?.close()
  await store?.close()
  await rm(dir, { recursive: true, force: true })
})

const route = fc.constantFrom(
  ['POST', '/v1/data'], ['POST', '/v1/hashes'], ['POST', '/v1/hashes/batch'], ['POST', '/v1/certificates/verify'], ['POST', '/v1/data/:id/verify'],
  ['GET', '/v1/data/:id'], ['GET', '/v1/data/:id/certificate'], ['GET', '/v1/items'], ['GET', '/v1/status'], ['POST', '/v1/nowhere']
)
const id = fc.oneof(fc.constant(HASH), fc.string({ maxLength: 70 }).map(encodeURIComponent), fc.constant('A'.repeat(64)), fc.constant('%zz'))
const key = fc.constantFrom<string | undefined>(ALICE.key, BOB.key, undefined, 'wrong', `bearer ${ALICE.key}`, `Bearer ${ALICE.key} x`)
const contentType = fc.constantFrom<string | undefined>(undefined, 'application/json', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', '\u00e9', 'a'.repeat(200), 'text/\u200bplain')

describe('fuzzing the service\'s HTTP bodies', () => {
  it('answers random and mutated requests with 4xx in the API\'s error format, storing nothing, or with a valid anchor', async () => {
    const codes = new Set<string>()
    await fc.assert(fc.asyncProperty(route, fc.integer({ min: 0 }), mutatedText(Object.values(BODIES).flat()), fc.constantFrom(...QUERIES), id, key, contentType,
      async ([method, path], bodyPick, mutated, query, itemId, auth, type) => {
        const bases = BODIES[path]
        const body = bases === undefined || bodyPick % 4 === 0 ? mutated : bases[bodyPick % bases.length] as string
        const headers: Record<string, string> = {}
        if (auth !== undefined) headers.authorization = auth.startsWith('Bearer') || auth.startsWith('bearer') ? auth : `Bearer ${auth}`
        if (type !== undefined) headers['content-type'] = type
        const writesBefore = writes
        const res = await app.inject({ method: method as 'GET' | 'POST', url: path.replace(':id', itemId) + query, headers, ...(method === 'POST' ? { payload: Buffer.from(body) } : {}) })
        expect(res.statusCode, res.body).toBeLessThan(500)
        if (res.statusCode >= 400) {
          const json = res.json() as { error: { code: string, message: string } }
          expect(Object.keys(json)).toEqual(['error'])
          expect(typeof json.error.code).toBe('string')
          expect(typeof json.error.message).toBe('string')
          codes.add(json.error.code)
          expect(writes).toBe(writesBefore)
        } else if (writes !== writesBefore) {
          // Stored: a known client's valid anchor request.
          expect(['/v1/data', '/v1/hashes', '/v1/hashes/batch']).toContain(path)
          expect([ALICE.key, BOB.key].map(k => `bearer ${k}`)).toContain(headers.authorization?.toLowerCase())
          expect(res.statusCode).toBe(202)
        }
      }), fuzzParams(RUNS))
    expect(codes.size).toBeGreaterThan(4)
  }, fuzzTimeout(15_000, RUNS))
})

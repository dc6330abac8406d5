/**
 * The typed client library against a running service: every call round-trips, results are the
 * documented shapes, certificates it returns check offline, and every refusal (and an unreachable
 * service) arrives as an ApiError with the status and the API's code.
 */
import '../../lib/promise-shim.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { sha256 } from '../../consensus/hash.js'
import { toHex } from '../../consensus/ids.js'
import { certificateFromJson } from '../../consensus/json.js'
import { ApiError, TrustnetClient } from '../../client/client.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { ALICE, BOB, SERVICE_ID, startHarness, waitFor, type Harness } from '../helpers/service-harness.js'

const utf8 = new TextEncoder()

async function refusal (p: Promise<unknown>): Promise<{ name: string, status: number, code: string }> {
  try {
    await p
  } catch (err) {
    if (err instanceof ApiError) return { name: err.name, status: err.status, code: err.code }
    throw err
  }
  throw new Error('expected an ApiError')
}

describe('TrustnetClient', () => {
  let net: FakeNetwork
  let h: Harness
  let alice: TrustnetClient
  let bob: TrustnetClient

  beforeAll(async () => {
    net = await startFakeNetwork()
    h = await startHarness(net)
    alice = new TrustnetClient({ url: `${h.url}/`, apiKey: ALICE.key, genesis: net.genesis })
    bob = new TrustnetClient({ url: h.url, apiKey: BOB.key, genesis: net.genesis })
  })

  afterAll(async () => {
    await h?.close()
    await net?.stop()
  })

  it('stores, reads back, fetches the certificate and verifies', async () => {
    const bytes = utf8.encode('{"invoice": 17}')
    const stored = await alice.storeData(bytes, { name: 'invoice-17.json', contentType: 'application/json' })
    if (stored.status !== 'certified') throw new Error('expected a certificate')
    expect(stored.hash).toBe(toHex(sha256(bytes)))
    expect(stored.size).toBe(bytes.length)
    expect(verifyCertificate(net.genesis, certificateFromJson(stored.certificate))).toMatchObject({ valid: true, service: SERVICE_ID })
    expect(stored.certificate.record.meta.name).toBe('invoice-17.json')

    const data = await alice.getData(stored.id)
    expect(data.bytes).toEqual(bytes)
    expect(data.contentType).toBe('application/json')

    expect(await alice.getCertificate(stored.id)).toEqual({ status: 'certified', certificate: stored.certificate })
    const verdict = await alice.verifyData(stored.id)
    expect(verdict).toMatchObject({ id: stored.id, intact: true, anchoredHash: stored.hash, currentHash: stored.hash })
    expect(verdict.attestations.length).toBeGreaterThanOrEqual(3)
    expect(await alice.verifyCertificate(stored.certificate)).toMatchObject({ valid: true, service: SERVICE_ID })
    expect(await alice.health()).toEqual({ status: 'ok' })
  })

  it('stores without waiting, then sees the certificate arrive', async () => {
    const pending = await alice.storeData(utf8.encode('later'), { wait: false })
    expect(pending.status).toBe('pending')
    await waitFor('certificate', async () => (await alice.getCertificate(pending.id)).status === 'certified')
  })

  it('anchors a hash and checks certificates, including a broken one', async () => {
    const hash = toHex(sha256(utf8.encode('elsewhere')))
    const anchored = await alice.anchorHash(hash, { name: 'elsewhere', size: 9 })
    if (anchored.status !== 'certified') throw new Error('expected a certificate')
    expect(anchored.certificate.record.dataHash).toBe(hash)
    const broken = { ...anchored.certificate, chainId: 'another-chain' }
    expect(await alice.verifyCertificate(broken)).toMatchObject({ valid: false, reason: 'WRONG_CHAIN' })
    expect(await alice.verifyCertificate({ nope: true })).toMatchObject({ valid: false })
  })

  it('throws ApiError with status and code for every refusal', async () => {
    const stored = await alice.storeData(utf8.encode('private'))
    const stranger = new TrustnetClient({ url: h.url, apiKey: 'not-a-key-0123456789abcdef' })
    expect(await refusal(stranger.getData(stored.id))).toEqual({ name: 'ApiError', status: 401, code: 'UNAUTHORIZED' })
    expect(await refusal(bob.getData(stored.id))).toEqual({ name: 'ApiError', status: 404, code: 'NOT_FOUND' })
    expect(await refusal(bob.verifyData(stored.id))).toEqual({ name: 'ApiError', status: 404, code: 'NOT_FOUND' })
    expect(await refusal(alice.getCertificate('00'.repeat(32)))).toEqual({ name: 'ApiError', status: 404, code: 'NOT_FOUND' })
    expect(await refusal(alice.getData('xyz'))).toEqual({ name: 'ApiError', status: 400, code: 'INVALID_ID' })
    expect(await refusal(alice.anchorHash('ABC'))).toEqual({ name: 'ApiError', status: 400, code: 'INVALID_HEX' })
    expect(await refusal(alice.storeData(new Uint8Array(11 * 1024 * 1024)))).toEqual({ name: 'ApiError', status: 413, code: 'PAYLOAD_TOO_LARGE' })
  })

  it('reports an unreachable service as NetworkError NETWORK_ERROR', async () => {
    const nowhere = new TrustnetClient({ url: 'http://127.0.0.1:1', apiKey: ALICE.key })
    await expect(nowhere.health()).rejects.toMatchObject({ name: 'NetworkError', code: 'NETWORK_ERROR' })
  })
})

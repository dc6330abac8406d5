/**
 * The service's HTTP API end to end, against an in-process fake validator set on real libp2p:
 * certificates it hands out name the service and check offline against the genesis; an item's id
 * is its salted entry, never derivable from the data; verification reads the stored bytes back,
 * rebuilds the entry with the stored salt and asks a quorum of validators; tampering with the
 * store is detected even when one validator lies; one garbage or lying node changes nothing; bad input is refused with its status
 * and leaves the store byte-for-byte unchanged; unreachable nodes give 503 on verify.
 */
import '../../lib/promise-shim.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { sha256 } from '../../consensus/hash.js'
import { entryOf } from '../../consensus/entries.js'
import { toHex } from '../../consensus/ids.js'
import { certificateFromJson, fromJson } from '../../consensus/json.js'
import { AttestationSchema, PROTOCOL, verifyAttestation, type Attestation } from '../../protocol/node-api.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { ALICE, BOB, SERVICE_ID, startHarness, waitFor, type Harness } from '../helpers/service-harness.js'

const MAX_BODY = 64 * 1024
const utf8 = new TextEncoder()

const attestationFromJson = (json: unknown): Attestation => fromJson(AttestationSchema, json)
/** What a valid certificate of this service verifies to. */
const VALID = { valid: true, service: SERVICE_ID }

describe('service HTTP API', () => {
  let net: FakeNetwork
  let h: Harness

  beforeAll(async () => {
    net = await startFakeNetwork()
    h = await startHarness(net, { config: { limits: { maxBodyBytes: MAX_BODY } } })
  })

  afterEach(async () => {
    // Whatever a test did to the network or the service, the next one starts healthy.
    for (const node of net.nodes) node.mode = 'honest'
    net.ledger.resume()
    await Promise.all(net.nodes.map(async n => { await n.up() }))
    await h.start()
  })

  afterAll(async () => {
    await h?.close()
    await net?.stop()
  })

  const store = async (bytes: Uint8Array | string, query = '', contentType = 'application/octet-stream', key = ALICE.key) =>
    await h.request('POST', `/v1/data${query}`, { body: bytes, contentType, key })

  it('answers health checks without a key', async () => {
    const res = await h.request('GET', '/v1/health', { key: null })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ status: 'ok' })
  })

  it('stores data and hands out a certificate that checks offline against the genesis', async () => {
    const bytes = utf8.encode('the signed contract, version 3')
    const res = await store(bytes, '?name=contract.pdf', 'application/pdf')
    expect(res.status).toBe(201)
    const cert = certificateFromJson(res.json.certificate)
    expect(verifyCertificate(net.genesis, cert)).toMatchObject({ ...VALID, entry: res.json.id })
    expect(res.json.id).toBe(toHex(entryOf(cert.record, cert.salt)))
    expect(res.json.id).not.toBe(res.json.hash)
    expect(res.json.hash).toBe(toHex(sha256(bytes)))
    expect(res.json.size).toBe(bytes.length)
    expect(cert.record.service).toBe(SERVICE_ID)
    expect(cert.record.dataHash).toEqual(sha256(bytes))
    expect(cert.record.meta).toMatchObject({ name: 'contract.pdf', size: bytes.length, contentType: 'application/pdf', owner: 'alice' })
    expect(typeof cert.record.meta.clientTime).toBe('number')

    const data = await h.request('GET', `/v1/data/${res.json.id}`)
    expect(data.status).toBe(200)
    expect(data.headers.get('content-type')).toBe('application/pdf')
    expect(data.bytes).toEqual(bytes)

    const again = await h.request('GET', `/v1/data/${res.json.id}/certificate`)
    expect(again.status).toBe(200)
    expect(again.json).toEqual(res.json.certificate)
  })

  it('anchors a batch of hashes with one certificate each, and refuses a batch with one bad hash whole', async () => {
    const hashes = Array.from({ length: 50 }, (_, i) => toHex(sha256(utf8.encode(`batch item ${i}`))))
    const res = await h.request('POST', '/v1/hashes/batch', { body: JSON.stringify({ hashes, metadata: { contentType: 'text/plain' } }), contentType: 'application/json' })
    expect(res.status).toBe(201)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    const items = res.json.items as Array<{ id: string, certificate: unknown }>
    expect(items).toHaveLength(50)
    items.forEach((item, i) => {
      const cert = certificateFromJson(item.certificate)
      expect(verifyCertificate(net.genesis, cert)).toMatchObject(VALID)
      expect(toHex(cert.record.dataHash)).toBe(hashes[i])
      expect(item.id).toBe(toHex(entryOf(cert.record, cert.salt)))
      expect(cert.record.meta).toMatchObject({ owner: 'alice', contentType: 'text/plain' })
    })

    await h.stop()
    const before = await h.snapshot()
    await h.start()
    const bad = await h.request('POST', '/v1/hashes/batch', { body: JSON.stringify({ hashes: [hashes[0], 'XYZ'] }), contentType: 'application/json' })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('INVALID_HEX')
    const tooMany = await h.request('POST', '/v1/hashes/batch', { body: JSON.stringify({ hashes: Array.from({ length: 1001 }, () => hashes[0]) }), contentType: 'application/json' })
    expect(tooMany.status).toBe(400)
    await h.stop()
    expect(await h.snapshot()).toEqual(before)
  })

  it('stores without waiting and certifies in the background', async () => {
    const res = await store('background job', '?wait=false')
    expect(res.status).toBe(202)
    expect(res.json).toEqual({ id: expect.stringMatching(/^[0-9a-f]{64}$/), hash: toHex(sha256(utf8.encode('background job'))), status: 'pending' })
    let cert: unknown
    await waitFor('certificate', async () => {
      const c = await h.request('GET', `/v1/data/${res.json.id}/certificate`)
      cert = c.json
      return c.status === 200
    })
    expect(verifyCertificate(net.genesis, certificateFromJson(cert))).toMatchObject(VALID)
  })

  it('certifies many concurrent uploads, sharing blocks', async () => {
    const before = net.ledger.height
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => await store(`item ${i}`, `?name=item-${i}`)))
    for (const res of results) {
      expect(res.status).toBe(201)
      expect(verifyCertificate(net.genesis, certificateFromJson(res.json.certificate))).toMatchObject(VALID)
    }
    expect(new Set(results.map(r => r.json.id)).size).toBe(40)
    expect(net.ledger.height - before).toBeLessThan(40)
  })

  it('anchors a bare hash, which has a certificate but no data to read back', async () => {
    const hash = toHex(sha256(utf8.encode('kept elsewhere')))
    const res = await h.request('POST', '/v1/hashes', { body: JSON.stringify({ hash, metadata: { name: 'elsewhere.bin', size: 14, contentType: 'application/x-thing' } }), contentType: 'application/json' })
    expect(res.status).toBe(201)
    const cert = certificateFromJson(res.json.certificate)
    expect(verifyCertificate(net.genesis, cert)).toMatchObject(VALID)
    expect(res.json.id).toBe(toHex(entryOf(cert.record, cert.salt)))
    expect(toHex(cert.record.dataHash)).toBe(hash)
    expect(cert.record.meta).toMatchObject({ name: 'elsewhere.bin', size: 14, contentType: 'application/x-thing', owner: 'alice' })

    expect((await h.request('GET', `/v1/data/${res.json.id}/certificate`)).status).toBe(200)
    expect((await h.request('GET', `/v1/data/${res.json.id}`)).status).toBe(404)
    const verify = await h.request('POST', `/v1/data/${res.json.id}/verify`)
    expect(verify.status).toBe(409)
    expect(verify.json.error.code).toBe('NO_DATA')
  })

  it('verifies stored data as intact, with a quorum of signed attestations', async () => {
    const bytes = utf8.encode('an untouched document')
    const { json: stored } = await store(bytes)
    const res = await h.request('POST', `/v1/data/${stored.id}/verify`)
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ id: stored.id, intact: true, anchoredHash: stored.hash, currentHash: stored.hash })
    const attestations: Attestation[] = res.json.attestations.map(attestationFromJson)
    expect(attestations.length).toBeGreaterThanOrEqual(3)
    expect(new Set(attestations.map(a => a.validator)).size).toBe(attestations.length)
    for (const a of attestations) {
      expect(verifyAttestation(net.genesis, a)).toBe(true)
      expect(a.outcome).toBe('match')
      expect(toHex(a.entry)).toBe(stored.id)
    }
  })

  it('checks certificates offline: valid, altered, truncated, not a certificate, not JSON', async () => {
    const { json: stored } = await store('certificate subject')
    const verify = async (body: unknown) => await h.request('POST', '/v1/certificates/verify', { body: typeof body === 'string' ? body : JSON.stringify(body), contentType: 'application/json' })
    const good = stored.certificate
    expect((await verify(good)).json).toMatchObject(VALID)

    const altered = structuredClone(good)
    altered.record.dataHash = toHex(sha256(utf8.encode('something else')))
    expect((await verify(altered)).json).toMatchObject({ valid: false, reason: 'INVALID_PROOF' })

    const truncated = structuredClone(good)
    truncated.commit.signatures = truncated.commit.signatures.slice(0, 2)
    expect((await verify(truncated)).json).toMatchObject({ valid: false, reason: 'INVALID_COMMIT' })

    const badHex = structuredClone(good)
    badHex.commit.blockHash = 'XYZ'
    const res = await verify(badHex)
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({ valid: false, reason: 'INVALID_FIELD' })
    expect((await verify({ hello: 'world' })).json).toMatchObject({ valid: false, reason: 'INVALID_FIELD' })
    expect((await verify(42)).json).toMatchObject({ valid: false })

    const notJson = await verify('{"v": 2,')
    expect(notJson.status).toBe(400)
    expect(notJson.json.error.code).toBe('MALFORMED_JSON')
  })

  it('certifies and verifies with one node answering garbage', async () => {
    net.nodes[3]!.mode = 'garbage'
    const { status, json } = await store('despite garbage')
    expect(status).toBe(201)
    expect(verifyCertificate(net.genesis, certificateFromJson(json.certificate))).toMatchObject(VALID)
    const res = await h.request('POST', `/v1/data/${json.id}/verify`)
    expect(res.json.intact).toBe(true)
    expect(res.json.attestations.map((a: { validator: number }) => a.validator).sort()).toEqual([0, 1, 2])
  })

  it('never takes a lying node\'s forged certificate', async () => {
    net.nodes[0]!.mode = 'lying'
    const served = net.nodes[0]!.served.get(PROTOCOL.certificate) ?? 0
    // Certificates are asked of one node at a time, in turn: within n stores the liar is asked first once.
    for (let i = 0; i < net.nodes.length; i++) {
      const { status, json } = await store(`despite lies ${i}`)
      expect(status).toBe(201)
      const cert = certificateFromJson(json.certificate)
      expect(verifyCertificate(net.genesis, cert)).toMatchObject(VALID)
      expect(cert.commit.signatures.length).toBeGreaterThanOrEqual(3)
    }
    // The liar was asked, and answered with a certificate of its own.
    expect(net.nodes[0]!.served.get(PROTOCOL.certificate) ?? 0).toBeGreaterThan(served)
  })

  it('detects tampered data even when one validator vouches for it', async () => {
    const bytes = utf8.encode('original terms')
    const { json: stored } = await store(bytes)
    const gone = await store('to be deleted')
    await h.stop()
    await h.tamper(stored.id, utf8.encode('original terms, quietly changed'))
    await h.tamper(gone.json.id, null)
    await h.start()
    net.nodes[2]!.mode = 'lying'

    const res = await h.request('POST', `/v1/data/${stored.id}/verify`)
    expect(res.status).toBe(200)
    expect(res.json.intact).toBe(false)
    expect(res.json.anchoredHash).toBe(toHex(sha256(bytes)))
    expect(res.json.currentHash).toBe(toHex(sha256(utf8.encode('original terms, quietly changed'))))
    const attestations: Attestation[] = res.json.attestations.map(attestationFromJson)
    const honest = attestations.filter(a => a.validator !== 2)
    expect(honest.length).toBeGreaterThanOrEqual(2)
    for (const a of attestations) expect(verifyAttestation(net.genesis, a)).toBe(true)
    for (const a of honest) {
      // The entry rebuilt from the changed bytes is not the one anchored, which is the item's id.
      expect(a.outcome).toBe('mismatch')
      expect(toHex(a.anchored ?? new Uint8Array(0))).toBe(stored.id)
      expect(toHex(a.entry)).not.toBe(stored.id)
    }

    const missing = await h.request('POST', `/v1/data/${gone.json.id}/verify`)
    expect(missing.json).toMatchObject({ intact: false, currentHash: null })
  })

  it('answers 503 on verify when fewer than a quorum of validators can be reached, and catches up later', async () => {
    const { json: stored } = await store('needs a quorum')
    await net.nodes[0]!.down()
    await net.nodes[1]!.down()
    const res = await h.request('POST', `/v1/data/${stored.id}/verify`)
    expect(res.status).toBe(503)
    expect(res.json.error.code).toBe('QUORUM_UNAVAILABLE')

    await Promise.all(net.nodes.map(async n => { await n.down() }))
    const pending = await store('accepted while the network is down', '?wait=false')
    expect(pending.status).toBe(202)
    expect((await h.request('GET', `/v1/data/${pending.json.id}/certificate`)).status).toBe(202)
    expect((await h.request('POST', `/v1/data/${pending.json.id}/verify`)).json.error.code).toBe('NOT_CERTIFIED')

    await net.nodes[2]!.up()
    await net.nodes[3]!.up()
    await waitFor('certificate after the network is back', async () =>
      (await h.request('GET', `/v1/data/${pending.json.id}/certificate`)).status === 200)
    await net.nodes[0]!.up()
    const ok = await h.request('POST', `/v1/data/${pending.json.id}/verify`)
    expect(ok.json.intact).toBe(true)
  })

  it('refuses bad input with its status and code, and changes nothing', async () => {
    const { json: mine } = await store('alice only')
    const unknownId = toHex(sha256(utf8.encode('no such item')))
    await h.stop()
    const before = await h.snapshot()
    await h.start()

    const json = (body: unknown) => ({ body: JSON.stringify(body), contentType: 'application/json' })
    const cases: Array<[string, string, Parameters<Harness['request']>[2], number, string]> = [
      ['POST', '/v1/data', { body: 'x', key: null }, 401, 'UNAUTHORIZED'],
      ['POST', '/v1/data', { body: 'x', key: 'wrong-key-0123456789abcdef' }, 401, 'UNAUTHORIZED'],
      ['GET', `/v1/data/${mine.id}`, { key: null }, 401, 'UNAUTHORIZED'],
      ['GET', `/v1/data/${mine.id}`, { key: null, headers: { authorization: `Basic ${ALICE.key}` } }, 401, 'UNAUTHORIZED'],
      ['POST', '/v1/hashes', { body: '{"hash": ', contentType: 'application/json' }, 400, 'MALFORMED_JSON'],
      ['POST', '/v1/hashes', { body: '', contentType: 'application/json' }, 400, 'MALFORMED_JSON'],
      ['POST', '/v1/hashes', json({ hash: 'ab'.repeat(31) }), 400, 'INVALID_HEX'],
      ['POST', '/v1/hashes', json({ hash: 'AB'.repeat(32) }), 400, 'INVALID_HEX'],
      ['POST', '/v1/hashes', json({ hash: 'zz'.repeat(32) }), 400, 'INVALID_HEX'],
      ['POST', '/v1/hashes', json({ hash: 'ab'.repeat(32), extra: 1 }), 400, 'INVALID_FIELD'],
      ['POST', '/v1/hashes', json({ hash: 'ab'.repeat(32), metadata: { size: -1 } }), 400, 'INVALID_FIELD'],
      ['POST', '/v1/hashes', json({ hash: 'ab'.repeat(32), metadata: { owner: 'mallory' } }), 400, 'INVALID_FIELD'],
      ['POST', '/v1/hashes', json([1, 2]), 400, 'INVALID_FIELD'],
      ['POST', '/v1/data', { body: new Uint8Array(MAX_BODY + 1) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/v1/hashes', { body: ' '.repeat(1024 * 1024 + 1), contentType: 'application/json' }, 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', `/v1/data?name=${'n'.repeat(300)}`, { body: 'x' }, 400, 'INVALID_FIELD'],
      ['POST', '/v1/data?name=a%0Ab', { body: 'x' }, 400, 'INVALID_FIELD'],
      ['POST', '/v1/data?wait=maybe', { body: 'x' }, 400, 'INVALID_FIELD'],
      ['POST', '/v1/data', { body: 'x', contentType: `text/${'x'.repeat(200)}` }, 400, 'INVALID_FIELD'],
      ['GET', `/v1/data/${unknownId}`, {}, 404, 'NOT_FOUND'],
      ['GET', `/v1/data/${unknownId}/certificate`, {}, 404, 'NOT_FOUND'],
      ['POST', `/v1/data/${unknownId}/verify`, {}, 404, 'NOT_FOUND'],
      ['GET', '/v1/data/not-hex', {}, 400, 'INVALID_ID'],
      ['GET', `/v1/data/${mine.id.toUpperCase()}`, {}, 400, 'INVALID_ID'],
      ['GET', `/v1/data/${mine.id}`, { key: BOB.key }, 404, 'NOT_FOUND'],
      ['GET', `/v1/data/${mine.id}/certificate`, { key: BOB.key }, 404, 'NOT_FOUND'],
      ['POST', `/v1/data/${mine.id}/verify`, { key: BOB.key }, 404, 'NOT_FOUND'],
      ['GET', '/v1/nothing-here', {}, 404, 'NOT_FOUND'],
      ['POST', '/v1/certificates/verify', { body: 'not json', contentType: 'application/json' }, 400, 'MALFORMED_JSON']
    ]
    for (const [method, path, init, status, code] of cases) {
      const res = await h.request(method, path, init)
      expect({ method, path, status: res.status, code: res.json?.error?.code }).toEqual({ method, path, status, code })
    }
    const unauthorized = await h.request('GET', `/v1/data/${mine.id}`, { key: null })
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer')
    // Alice's own item is still hers.
    expect((await h.request('GET', `/v1/data/${mine.id}`)).bytes).toEqual(utf8.encode('alice only'))

    await h.stop()
    expect(await h.snapshot()).toEqual(before)
  })
})

/**
 * The client library as a user imports it (`trustnet/client`, resolved through the package's own
 * exports) against a real cluster: four validator processes and a service. Each call round-trips;
 * certificates it gets check offline against the genesis as the service hands them out; the
 * caller's items are listed and found by data hash, and no other client's; verifyData believes
 * only signatures it checked itself; the genesis is fetched and refused unless it is the pinned one; every call can be aborted; every failure is its typed error.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AbortedError, ApiError, BadResponseError, GenesisError, NetworkError, TrustnetClient, fingerprintOf, hashData, verifyCertificate,
  type CertificateJson, type ItemInfo
} from 'trustnet/client'
import { ProcessCluster } from '../../cli/process-cluster.js'
import { certificateFromJson } from '../../consensus/json.js'

const OTHER = { key: 'client-lib-other-key-0123456789', client: 'client-lib-other' }
const utf8 = new TextEncoder()

/** The error a call fails with, or a failure of the test if it succeeds. */
async function failure (p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected the call to fail')
}

describe('trustnet/client against a real cluster', () => {
  let cluster: ProcessCluster
  let genesisText: string
  let client: TrustnetClient
  let other: TrustnetClient

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ validators: 4, extraApiKeys: [OTHER] })
    await cluster.startNodes()
    await cluster.startService()
    genesisText = await readFile(cluster.genesisFile, 'utf8')
    client = new TrustnetClient({ url: cluster.serviceUrl, apiKey: cluster.apiKey, genesis: genesisText })
    other = new TrustnetClient({ url: cluster.serviceUrl, apiKey: OTHER.key, genesis: cluster.genesis })
  })

  afterAll(async () => { await cluster?.destroy() })

  const expectValid = (cert: CertificateJson, dataHash: string): void => {
    // As a value, and as the JSON text a file holds.
    for (const form of [cert, JSON.stringify(cert)]) {
      const verdict = verifyCertificate(genesisText, form)
      expect(verdict).toMatchObject({ valid: true, service: cluster.genesis.services[0]!.name, entry: expect.stringMatching(/^[0-9a-f]{64}$/), dataHash })
      if (!verdict.valid) return
      expect(verdict.signers.length).toBeGreaterThanOrEqual(3)
      expect(verdict.height).toBe(cert.header.height)
      expect(verdict.time).toBe(cert.header.time)
    }
  }

  it('stores data, reads it back with its content type, fetches its certificate and checks it offline', async () => {
    const bytes = utf8.encode('{"invoice": 1}')
    const stored = await client.storeData(bytes, { name: 'invoice-1.json', contentType: 'application/json' })
    if (stored.status !== 'certified') throw new Error('expected a certificate')
    expect(stored.hash).toBe(hashData(bytes))
    expectValid(stored.certificate, hashData(bytes))
    expect(verifyCertificate(cluster.genesis, stored.certificate)).toMatchObject({ valid: true, meta: { name: 'invoice-1.json', contentType: 'application/json' } })
    expect(verifyCertificate(genesisText, stored.certificate)).toMatchObject({ entry: stored.id })
    // And as a decoded value (byte fields as bytes).
    expect(verifyCertificate(cluster.genesis, certificateFromJson(stored.certificate))).toMatchObject({ valid: true, entry: stored.id })
    expect(await client.getData(stored.id)).toEqual({ bytes, contentType: 'application/json' })
    expect(await client.getCertificate(stored.id)).toEqual({ status: 'certified', certificate: stored.certificate })
    expect(await client.verifyCertificate(stored.certificate)).toMatchObject({ valid: true, entry: stored.id })
    // A changed byte in the certificate is a refusal with a code, not a throw.
    const forged = { ...stored.certificate, record: { ...stored.certificate.record, meta: { ...stored.certificate.record.meta, name: 'invoice-2.json' } } }
    expect(verifyCertificate(genesisText, forged)).toMatchObject({ valid: false, reason: 'INVALID_PROOF' })
    expect(verifyCertificate(genesisText, '{"v":3,')).toMatchObject({ valid: false, reason: 'MALFORMED' })
  })

  it('anchors a hash and a batch of hashes, each with a certificate that checks offline', async () => {
    const hashes = ['a', 'b', 'c'].map(s => hashData(utf8.encode(`batch item ${s}`)))
    const one = await client.anchorHash(hashData(utf8.encode('single')), { name: 'single.txt', size: 6 })
    if (one.status !== 'certified') throw new Error('expected a certificate')
    expectValid(one.certificate, hashData(utf8.encode('single')))
    const batch = await client.anchorBatch(hashes, { contentType: 'text/plain' })
    expect(batch.status).toBe('certified')
    expect(batch.items).toHaveLength(3)
    batch.items.forEach((item, i) => {
      if (item.status !== 'certified') throw new Error('expected a certificate')
      expectValid(item.certificate, hashes[i]!)
    })
    const later = await client.anchorBatch([hashData(utf8.encode('later'))], undefined, { wait: false })
    expect(later).toMatchObject({ status: 'pending', items: [{ status: 'pending', id: expect.stringMatching(/^[0-9a-f]{64}$/) }] })
  })

  it('lists the caller\'s own items newest first, page by page, and finds them by data hash', async () => {
    const bytes = utf8.encode('listed document')
    const stored = [await client.storeData(bytes, { name: 'first.txt' }), await client.storeData(bytes, { name: 'second.txt' })]
    const mine = new Set(stored.map(s => s.id))
    const seen: ItemInfo[] = []
    let page = await client.listItems({ limit: 2 })
    // The two just stored come first (newest first), then any older ones, each once.
    expect(page.items.map(i => i.id)).toEqual([stored[1]!.id, stored[0]!.id])
    while (page.next !== null) {
      seen.push(...page.items)
      page = await client.listItems({ limit: 2, after: page.next })
    }
    seen.push(...page.items)
    expect(new Set(seen.map(i => i.id)).size).toBe(seen.length)
    expect(seen.filter(i => mine.has(i.id))).toHaveLength(2)
    const found = await client.findByDataHash(hashData(bytes))
    expect(new Set(found.items.map(i => i.id))).toEqual(mine)
    for (const item of found.items) expect(item).toMatchObject({ dataHash: hashData(bytes), hasData: true, size: bytes.length })
    // Another client sees none of them, by listing or by hash.
    expect((await other.findByDataHash(hashData(bytes))).items).toEqual([])
    expect((await other.listItems()).items.filter(i => mine.has(i.id))).toEqual([])
  })

  it('verifies stored data by checking the validators\' signed attestations itself', async () => {
    const stored = await client.storeData(utf8.encode('verify me'))
    const result = await client.verifyData(stored.id)
    expect(result).toMatchObject({ id: stored.id, intact: true, serviceIntact: true, anchoredHash: stored.hash, currentHash: stored.hash })
    expect(result.tally.matches).toBeGreaterThanOrEqual(result.tally.quorum)
    expect(result.tally.quorum).toBe(3)

    // A service that says intact over attestations whose signatures do not check is not believed.
    const lying = new TrustnetClient({
      url: cluster.serviceUrl,
      apiKey: cluster.apiKey,
      genesis: genesisText,
      fetch: async (url, init) => {
        const res = await fetch(url, init)
        const body = await res.json() as { attestations: Array<{ signature: string }> }
        for (const a of body.attestations) a.signature = `${a.signature.slice(0, -2)}${a.signature.endsWith('00') ? '01' : '00'}`
        return new Response(JSON.stringify(body), { status: res.status, headers: { 'content-type': 'application/json' } })
      }
    })
    const lied = await lying.verifyData(stored.id)
    expect(lied).toMatchObject({ intact: false, serviceIntact: true, tally: { matches: 0, rejected: lied.attestations.length } })
  })

  it('fetches the genesis without a key and refuses one that is not the pinned fingerprint; verifyData with only a pin fetches it', async () => {
    const pin = fingerprintOf(genesisText)
    const anyone = new TrustnetClient({ url: cluster.serviceUrl, apiKey: 'no key needed' })
    expect(await anyone.fetchGenesis({ pin })).toEqual({ genesis: cluster.genesis, fingerprint: pin })
    const wrong = '0'.repeat(64)
    expect(await failure(anyone.fetchGenesis({ pin: wrong }))).toMatchObject({ name: 'GenesisError', code: 'GENESIS_PIN_MISMATCH' })
    expect(await failure(anyone.fetchGenesis({ pin: 'sha256:x' }))).toMatchObject({ name: 'GenesisError', code: 'INVALID_PIN' })
    // A service that hands out another genesis under the real fingerprint is caught: the fingerprint is computed here.
    const swapped = new TrustnetClient({
      url: cluster.serviceUrl,
      apiKey: cluster.apiKey,
      fetch: async () => new Response(JSON.stringify({ fingerprint: pin, genesis: { ...JSON.parse(genesisText) as object, chainId: 'copied' } }), { status: 200 })
    })
    expect(await failure(swapped.fetchGenesis())).toBeInstanceOf(BadResponseError)

    const stored = await client.storeData(utf8.encode('verify me, pinned'))
    if (stored.status !== 'certified') throw new Error('expected a certificate')
    expect(verifyCertificate(genesisText, stored.certificate, { pin })).toMatchObject({ valid: true })
    let refused: unknown
    try { verifyCertificate(genesisText, stored.certificate, { pin: wrong }) } catch (err) { refused = err }
    expect(refused).toMatchObject({ name: 'GenesisError', code: 'GENESIS_PIN_MISMATCH' })
    const pinnedOnly = new TrustnetClient({ url: cluster.serviceUrl, apiKey: cluster.apiKey, pin })
    expect(await pinnedOnly.verifyData(stored.id)).toMatchObject({ intact: true })
    expect(await failure(client.verifyData(stored.id, { pin: wrong }))).toMatchObject({ name: 'GenesisError', code: 'GENESIS_PIN_MISMATCH' })
  })

  it('aborts every kind of call on its signal', async () => {
    const aborted = AbortSignal.abort()
    const calls: Array<(signal: AbortSignal) => Promise<unknown>> = [
      signal => client.storeData(utf8.encode('never'), { signal }),
      signal => client.anchorHash(hashData(utf8.encode('never')), undefined, { signal }),
      signal => client.anchorBatch([hashData(utf8.encode('never'))], undefined, { signal }),
      signal => client.getCertificate('00'.repeat(32), { signal }),
      signal => client.getData('00'.repeat(32), { signal }),
      signal => client.listItems({ signal }),
      signal => client.findByDataHash('00'.repeat(32), { signal }),
      signal => client.verifyData('00'.repeat(32), { signal }),
      signal => client.verifyCertificate({}, { signal }),
      signal => client.health({ signal })
    ]
    for (const call of calls) expect(await failure(call(aborted))).toMatchObject({ name: 'AbortedError', code: 'ABORTED' })
    // In flight: the request has left when the signal fires.
    const controller = new AbortController()
    const pending = client.storeData(utf8.encode('aborted in flight'), { signal: controller.signal })
    controller.abort(new Error('user gave up'))
    const err = await failure(pending)
    expect(err).toBeInstanceOf(AbortedError)
    expect((err as AbortedError).cause).toMatchObject({ message: 'user gave up' })
  })

  it('fails each way with its typed error and code', async () => {
    const stored = await client.storeData(utf8.encode('private'))
    const stranger = new TrustnetClient({ url: cluster.serviceUrl, apiKey: 'not-a-key-0123456789abcdef', genesis: genesisText })
    const refusal = async (p: Promise<unknown>): Promise<unknown> => {
      const err = await failure(p)
      expect(err).toBeInstanceOf(ApiError)
      return { status: (err as ApiError).status, code: (err as ApiError).code }
    }
    expect(await refusal(stranger.listItems())).toEqual({ status: 401, code: 'UNAUTHORIZED' })
    expect(await refusal(other.getCertificate(stored.id))).toEqual({ status: 404, code: 'NOT_FOUND' })
    expect(await refusal(other.verifyData(stored.id))).toEqual({ status: 404, code: 'NOT_FOUND' })
    expect(await refusal(client.findByDataHash('XYZ'))).toEqual({ status: 400, code: 'INVALID_HEX' })
    expect(await refusal(client.listItems({ limit: 0 }))).toEqual({ status: 400, code: 'INVALID_FIELD' })
    expect(await refusal(client.listItems({ after: 'nonsense' }))).toEqual({ status: 400, code: 'INVALID_FIELD' })
    expect(await refusal(client.anchorHash('ABC'))).toEqual({ status: 400, code: 'INVALID_HEX' })

    const nowhere = new TrustnetClient({ url: 'http://127.0.0.1:1', apiKey: cluster.apiKey })
    expect(await failure(nowhere.health())).toBeInstanceOf(NetworkError)
    const proxy = new TrustnetClient({ url: cluster.serviceUrl, apiKey: cluster.apiKey, fetch: async () => new Response('<html>a proxy</html>', { status: 200 }) })
    expect(await failure(proxy.listItems())).toMatchObject({ name: 'BadResponseError', code: 'BAD_RESPONSE' })
    expect(await failure(proxy.listItems())).toBeInstanceOf(BadResponseError)

    const noGenesis = new TrustnetClient({ url: cluster.serviceUrl, apiKey: cluster.apiKey })
    expect(await failure(noGenesis.verifyData(stored.id))).toMatchObject({ name: 'GenesisError', code: 'GENESIS_REQUIRED' })
    let bad: unknown
    try { verifyCertificate('{"chainId": 1}', {}) } catch (err) { bad = err }
    expect(bad).toBeInstanceOf(GenesisError)
    expect(bad).toMatchObject({ code: 'INVALID_GENESIS' })
  })
})

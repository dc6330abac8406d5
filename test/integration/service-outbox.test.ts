/**
 * The outbox: with room for only a few pending items in memory, everything stored beyond it waits
 * in the store and is still certified, each item once; a batch the validators refuse for good
 * fails (its items show the validators' code and message, are counted, and are never submitted
 * again) where one refused for now is retried until certified; and clients take turns, so one
 * client's flood holds another's record neither behind its line nor behind its records in flight.
 */
import '../../lib/promise-shim.js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyCertificate } from '../../consensus/certificate.js'
import { entryOf } from '../../consensus/entries.js'
import { idKey, toHex } from '../../consensus/ids.js'
import { certificateFromJson } from '../../consensus/json.js'
import { waitFor } from '../../lib/wait-for.js'
import { Outbox, type CertificateSource, type OutboxInit } from '../../service/outbox.js'
import { ServiceStore, type Item } from '../../service/store.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { makeRecord } from '../helpers/fixtures.js'
import { parseExposition, valueOf } from '../helpers/prometheus-text.js'
import { SERVICE_ID, startHarness, type Harness } from '../helpers/service-harness.js'

const hex32 = (): string => randomBytes(32).toString('hex')
const json = (body: unknown): { body: string, contentType: string } => ({ body: JSON.stringify(body), contentType: 'application/json' })

describe('service outbox', () => {
  let net: FakeNetwork
  let h: Harness
  beforeAll(async () => {
    net = await startFakeNetwork({ label: 'outbox' })
    h = await startHarness(net, { start: { outbox: { maxQueued: 3, pollWaitMs: 2_000, backoff: { minMs: 50, maxMs: 500 }, refusedBackoffMs: 50 } } })
  })
  afterAll(async () => {
    await h?.close()
    await net?.stop()
  })

  it('certifies a batch far larger than its in-memory queue, every record once', async () => {
    const hashes = Array.from({ length: 40 }, hex32)
    const res = await h.request('POST', '/v1/hashes/batch', json({ hashes }))
    expect(res.status).toBe(201)
    const items = res.json.items as Array<{ id: string, certificate: unknown }>
    expect(items).toHaveLength(40)
    for (const item of items) {
      const cert = certificateFromJson(item.certificate)
      expect(verifyCertificate(net.genesis, cert)).toMatchObject({ valid: true, service: SERVICE_ID, entry: item.id })
      expect(toHex(entryOf(cert.record, cert.salt))).toBe(item.id)
    }
    expect(new Set(items.map(i => i.id)).size).toBe(40)
    const status = await h.request('GET', '/v1/status')
    expect(status.json).toMatchObject({ certified: 40, stored: 40, inFlight: 0, queued: 0 })
  })

  it('fails an item the validators refuse for good, shows their code and reason, counts it, and never submits it again', async () => {
    net.ledger.refuseSubmissions('BAD_SIGNATURE')
    const single = await h.request('POST', '/v1/hashes', json({ hash: hex32() }))
    expect([single.status, single.json.status, single.json.error?.code]).toEqual([409, 'failed', 'BAD_SIGNATURE'])
    expect(typeof single.json.error.message).toBe('string')
    const id = single.json.id as string
    // The batch answer settles with the failures instead of waiting out its time.
    const batch = await h.request('POST', '/v1/hashes/batch', json({ hashes: [hex32(), hex32()] }))
    expect([batch.status, batch.json.items.map((i: { status: string, error: { code: string } }) => [i.status, i.error.code])]).toEqual([200, [['failed', 'BAD_SIGNATURE'], ['failed', 'BAD_SIGNATURE']]])

    const cert = await h.request('GET', `/v1/data/${id}/certificate`)
    expect([cert.status, cert.json]).toEqual([409, { id, status: 'failed', error: single.json.error }])
    const listed = (await h.request('GET', '/v1/items')).json.items.find((i: { id: string }) => i.id === id)
    expect(listed).toMatchObject({ status: 'failed', error: { code: 'BAD_SIGNATURE' } })
    const metrics = parseExposition(new TextDecoder().decode((await h.request('GET', '/metrics', { key: null })).bytes))
    expect(valueOf(metrics, 'trustnet_items_failed_total', { code: 'BAD_SIGNATURE' })).toBe(3)
    expect((await h.request('GET', '/v1/status')).json).toMatchObject({ inFlight: 0, queued: 0 })

    // Nothing holds the failed items, not even across a restart: the next item is certified and they are not tried again.
    net.ledger.refuseSubmissions('BAD_SIGNATURE', 0)
    const attempts = net.ledger.refused.length
    await h.restart()
    expect((await h.request('POST', '/v1/hashes', json({ hash: hex32() }))).status).toBe(201)
    expect(net.ledger.refused.length).toBe(attempts)
    expect(net.ledger.submitted.some(e => toHex(e) === id)).toBe(false)
    expect((await h.request('GET', `/v1/data/${id}/certificate`)).status).toBe(409)
  })

  it('retries an item the validators refuse for now until it is certified', async () => {
    // Every node refuses twice in a row: two rounds, then the quota has room.
    net.ledger.refuseSubmissions('SERVICE_QUOTA', 2 * net.nodes.length)
    const res = await h.request('POST', '/v1/hashes', json({ hash: hex32() }))
    expect(res.status).toBe(201)
    const id = res.json.id as string
    expect(net.ledger.refused.filter(e => toHex(e) === id)).toHaveLength(2 * net.nodes.length)
    expect(verifyCertificate(net.genesis, certificateFromJson(res.json.certificate))).toMatchObject({ valid: true, entry: id })
    const metrics = parseExposition(new TextDecoder().decode((await h.request('GET', '/metrics', { key: null })).bytes))
    expect(valueOf(metrics, 'trustnet_items_failed_total', { code: 'SERVICE_QUOTA' })).toBeUndefined()
  })
})

/** Records each submit's entries; certificate requests stay open until released, then place nothing. */
class GatedNodes implements CertificateSource {
  readonly submits: string[][] = []
  private readonly open: Array<() => void> = []

  async submit (entries: readonly Uint8Array[]): Promise<{ acknowledged: number, committed: Set<string> }> {
    this.submits.push(entries.map(idKey))
    return { acknowledged: 1, committed: new Set() }
  }

  async certificates (ids: readonly Uint8Array[], opts: { signal?: AbortSignal }): Promise<null[]> {
    await new Promise<void>(resolve => {
      this.open.push(resolve)
      opts.signal?.addEventListener('abort', () => { resolve() }, { once: true })
    })
    return ids.map(() => null)
  }

  /** End every certificate request in flight. */
  release (): void { for (const done of this.open.splice(0)) done() }
}

describe('outbox turns', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function setUp (init: Partial<OutboxInit>): Promise<{ nodes: GatedNodes, outbox: Outbox, put: (client: string, count: number) => Promise<Item[]> }> {
    const dir = await mkdtemp(join(tmpdir(), 'trustnet-outbox-turns-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const store = new ServiceStore(join(dir, 'db'))
    await store.open()
    cleanups.push(async () => { await store.close() })
    const nodes = new GatedNodes()
    const outbox = new Outbox({ store, nodes, lingerMs: 0, pollWaitMs: 30_000, backoff: { minMs: 1, maxMs: 1 }, ...init })
    let n = 0
    const put = async (client: string, count: number): Promise<Item[]> =>
      await store.putItems(Array.from({ length: count }, () => ({ input: { client, record: makeRecord(n++), createdAt: Date.now() } })))
    await outbox.start()
    cleanups.push(async () => { await outbox.stop() })
    return { nodes, outbox, put }
  }
  const keys = (items: Item[]): string[] => items.map(i => idKey(i.id))

  it('puts another client\'s record in the next round although the flooding client has thousands waiting', async () => {
    const { nodes, outbox, put } = await setUp({ maxBatch: 10, concurrency: 1, maxInFlightPerClient: 10 })
    const flood = await put('alice', 3000)
    outbox.add(flood)
    await waitFor('the first round', () => nodes.submits.length === 1, 5_000, 5)
    expect(nodes.submits[0]).toEqual(keys(flood.slice(0, 10)))
    const [single] = await put('bob', 1)
    outbox.add([single as Item])
    nodes.release()
    await waitFor('the second round', () => nodes.submits.length === 2, 5_000, 5)
    // Bob's record goes in the next round (a turn each), ahead of Alice's 2,990 waiting; her next nine fill the rest.
    const second = nodes.submits[1] as string[]
    expect(second).toContain(idKey((single as Item).id))
    expect(second.filter(k => k !== idKey((single as Item).id))).toEqual(keys(flood.slice(10, 19)))
    expect(outbox.stats()).toMatchObject({ inFlight: 10, queued: 2991 })
  })

  it('holds a client to its budget of records in flight, so another client\'s record goes out while the first\'s rounds are still open', async () => {
    const { nodes, outbox, put } = await setUp({ maxBatch: 10, concurrency: 4, maxInFlightPerClient: 20 })
    outbox.add(await put('alice', 3000))
    await waitFor('two rounds of alice', () => nodes.submits.length === 2, 5_000, 5)
    const [single] = await put('bob', 1)
    outbox.add([single as Item])
    await waitFor('a round for bob', () => nodes.submits.length === 3, 5_000, 5)
    // Alice had no third round though slots were free; Bob's round holds his record alone, nothing of Alice's.
    expect(nodes.submits.map(s => s.length)).toEqual([10, 10, 1])
    expect(nodes.submits[2]).toEqual([idKey((single as Item).id)])
    // When Alice's rounds end, her next records go out.
    nodes.release()
    await waitFor('alice again', () => nodes.submits.length >= 5, 5_000, 5)
    expect(nodes.submits.slice(3, 5).map(s => s.length)).toEqual([10, 10])
  })
})

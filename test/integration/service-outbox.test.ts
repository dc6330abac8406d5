/**
 * The outbox's memory bound: with room for only a few pending items in memory, everything stored
 * beyond it waits in the store and is still certified, each item once.
 */
import '../../lib/promise-shim.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { verifyCertificate } from '../../consensus/certificate.js'
import { entryOf } from '../../consensus/entries.js'
import { toHex } from '../../consensus/ids.js'
import { certificateFromJson } from '../../consensus/json.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { SERVICE_ID, startHarness, type Harness } from '../helpers/service-harness.js'

describe('service outbox', () => {
  let net: FakeNetwork
  let h: Harness
  beforeAll(async () => {
    net = await startFakeNetwork({ label: 'outbox' })
    h = await startHarness(net, { start: { outbox: { maxQueued: 3, pollWaitMs: 2_000, backoff: { minMs: 50, maxMs: 500 } } } })
  })
  afterAll(async () => {
    await h?.close()
    await net?.stop()
  })

  it('certifies a batch far larger than its in-memory queue, every record once', async () => {
    const hashes = Array.from({ length: 40 }, () => randomBytes(32).toString('hex'))
    const res = await h.request('POST', '/v1/hashes/batch', { body: JSON.stringify({ hashes }), contentType: 'application/json' })
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
})

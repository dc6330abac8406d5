/**
 * Nothing the service accepted is lost across a stop: an item stored before certification is
 * certified after a restart on the same dataDir, with the same id, even when the validators
 * forgot it meanwhile (the outbox resubmits it); a store request outlasting certificateWaitMs
 * answers 202; requests waiting when the service stops answer 202 and are certified after the
 * restart; nodes that are all down are retried until they are back. The same upload twice, even
 * at the same instant, is two items under two salts: nothing on the ledger links them.
 */
import '../../lib/promise-shim.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { entryOf } from '../../consensus/entries.js'
import { fromHex, toHex } from '../../consensus/ids.js'
import { certificateFromJson } from '../../consensus/json.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { SERVICE_ID, startHarness, waitFor, type Harness } from '../helpers/service-harness.js'

const WAIT_MS = 1_000

describe('service across stops and restarts', () => {
  let net: FakeNetwork | undefined
  let h: Harness | undefined

  beforeEach(async () => {
    net = await startFakeNetwork()
    h = await startHarness(net, { config: { certificateWaitMs: WAIT_MS } })
  })

  afterEach(async () => {
    await h?.close()
    await net?.stop()
    h = undefined
    net = undefined
  })

  const certified = async (harness: Harness, id: string): Promise<void> => {
    await waitFor(`certificate of ${id}`, async () => (await harness.request('GET', `/v1/data/${id}/certificate`)).status === 200)
    const res = await harness.request('GET', `/v1/data/${id}/certificate`)
    const cert = certificateFromJson(res.json)
    expect(verifyCertificate(net!.genesis, cert)).toMatchObject({ valid: true, service: SERVICE_ID, entry: id })
    expect(toHex(entryOf(cert.record, cert.salt))).toBe(id)
  }

  it('certifies an item stored before a stop after the restart, with the same id, though the validators forgot it', async () => {
    const ledger = net!.ledger
    ledger.pause()
    const res = await h!.request('POST', '/v1/data?wait=false&name=crash.txt', { body: 'stored, then the lights went out' })
    expect(res.status).toBe(202)
    const id: string = res.json.id
    await waitFor('submission reached the validators', () => ledger.submitted.some(e => toHex(e) === id))

    await h!.stop()
    // The validators crash too and lose their mempools: only the service's outbox still has the record.
    ledger.dropMempool()
    ledger.resume()
    expect(ledger.isCommitted(fromHex(id))).toBe(false)
    const submitted = ledger.submitted.length

    await h!.start()
    await certified(h!, id)
    expect(ledger.isCommitted(fromHex(id))).toBe(true)
    expect(ledger.submitted.length).toBeGreaterThan(submitted)
    const data = await h!.request('GET', `/v1/data/${id}`)
    expect(new TextDecoder().decode(data.bytes)).toBe('stored, then the lights went out')
  })

  it('answers 202 when certification outlasts certificateWaitMs, and certifies later', async () => {
    net!.ledger.pause()
    const started = Date.now()
    const res = await h!.request('POST', '/v1/data', { body: 'slow network' })
    expect(res.status).toBe(202)
    expect(res.json.status).toBe('pending')
    expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 50)
    net!.ledger.resume()
    await certified(h!, res.json.id)
  })

  it('answers requests waiting at a stop with 202, and certifies them after the restart', async () => {
    const ledger = net!.ledger
    ledger.pause()
    const waiting = Array.from({ length: 5 }, async (_, i) => await h!.request('POST', '/v1/data', { body: `waiting ${i}` }))
    await waitFor('all five submitted', () => ledger.submitted.length >= 5)
    const stopping = Date.now()
    await h!.stop()
    // Well under the server's keep-alive timeout: connections that were busy at close are not left open.
    expect(Date.now() - stopping).toBeLessThan(5_000)
    const answers = await Promise.all(waiting)
    for (const a of answers) expect(a.status).toBe(202)

    ledger.dropMempool()
    ledger.resume()
    await h!.start()
    for (const a of answers) await certified(h!, a.json.id)
  })

  it('keeps retrying while every node is down, and certifies once they are back', async () => {
    await Promise.all(net!.nodes.map(async n => { await n.down() }))
    const res = await h!.request('POST', '/v1/data?wait=false', { body: 'offline for a while' })
    expect(res.status).toBe(202)
    expect((await h!.request('GET', `/v1/data/${res.json.id}/certificate`)).status).toBe(202)

    // A restart while the network is still down changes nothing either.
    await h!.restart()
    expect((await h!.request('GET', `/v1/data/${res.json.id}/certificate`)).status).toBe(202)

    await Promise.all(net!.nodes.map(async n => { await n.up() }))
    await certified(h!, res.json.id)
  })

  it('stores the same upload twice as two items under two salts, even at the same instant', async () => {
    const frozen = await startHarness(net!, { start: { now: () => 1_750_000_000_000 } })
    try {
      const first = await frozen.request('POST', '/v1/data?name=a.txt', { body: 'shared text' })
      const retry = await frozen.request('POST', '/v1/data?name=a.txt', { body: 'shared text' })
      expect([first.status, retry.status]).toEqual([201, 201])
      expect(retry.json.hash).toBe(first.json.hash)
      expect(retry.json.id).not.toBe(first.json.id)
      expect(retry.json.certificate.salt).not.toBe(first.json.certificate.salt)
      // The records are equal; only the salts tell the entries apart.
      expect(retry.json.certificate.record).toEqual(first.json.certificate.record)
      await frozen.stop()
      // One data entry and one item per upload, and an empty outbox.
      const keys = [...(await frozen.snapshot()).keys()]
      expect(keys.filter(k => k.startsWith('01'))).toHaveLength(2)
      expect(keys.filter(k => k.startsWith('02'))).toHaveLength(2)
      expect(keys.filter(k => k.startsWith('03'))).toHaveLength(0)
    } finally {
      await frozen.close()
    }
  })
})

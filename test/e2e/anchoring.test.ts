/**
 * The whole system as a user meets it: four validator processes and a service process on
 * loopback. 100 items stored over HTTP get certificates signed by at least 3 distinct validators
 * that name the service registered in the genesis and verify offline with the genesis alone; an
 * item changed behind the service's back is reported tampered (the validators attest that the
 * entry rebuilt from its bytes is not the one anchored) and the others intact; a certificate with one changed byte is refused; bad
 * requests get their status and change nothing. The cluster is shared; each test stores its own
 * items and asserts only on them, so any one of them runs alone.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Level } from 'level'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { fromHex } from '../../consensus/ids.js'
import { certificateFromJson } from '../../consensus/json.js'
import { CLI_PATH } from '../../cli/cluster.js'
import { dataKey } from '../../service/store.js'
import { ProcessCluster } from '../../cli/process-cluster.js'

const run = promisify(execFile)
const OTHER_KEY = 'other-client-key-0123456789abcdef'
const ITEMS = 100
/** Item records in the service store (service/store.ts Prefix.Item). */
const ITEM_PREFIX = 0x02

interface Stored { id: string, hash: string, size: number, certificate: unknown }

describe('anchoring through real processes', () => {
  let cluster: ProcessCluster

  const api = async (path: string, init: RequestInit & { key?: string | null } = {}): Promise<Response> => {
    const headers = new Headers(init.headers)
    const key = init.key === undefined ? cluster.apiKey : init.key
    if (key !== null) headers.set('authorization', `Bearer ${key}`)
    return await fetch(`${cluster.serviceUrl}${path}`, { ...init, headers })
  }

  beforeAll(async () => {
    cluster = await ProcessCluster.create({
      validators: 4,
      extraApiKeys: [{ key: OTHER_KEY, client: 'client-2' }],
      serviceConfig: { limits: { maxBodyBytes: 1024 * 1024 } }
    })
    await cluster.startNodes()
    await cluster.startService()
  })

  afterAll(async () => { await cluster?.destroy() })

  /** `count` items of the calling test (`label` keeps their bytes its own), stored and certified, 20 requests at a time as a busy service would see them. */
  const storeItems = async (label: string, count: number): Promise<Stored[]> => {
    const bodies = Array.from({ length: count }, (_, i) => new TextEncoder().encode(`${label} document ${i}: ${'x'.repeat(i * 10)}`))
    const stored: Stored[] = []
    for (let i = 0; i < count; i += 20) {
      const batch = await Promise.all(bodies.slice(i, i + 20).map(async (body, k) => {
        const res = await api(`/v1/data?name=${label}-${i + k}.txt`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })
        expect(res.status).toBe(201)
        return await res.json() as Stored
      }))
      stored.push(...batch)
    }
    return stored
  }

  /** Items in the service's store, read with the service stopped (it holds the store's lock); started again after. */
  const itemsInStore = async (): Promise<number> => {
    await cluster.stopService()
    const db = new Level<Uint8Array, Uint8Array>(join(cluster.serviceDataDir, 'store'), { keyEncoding: 'view', valueEncoding: 'view' })
    let items = 0
    try {
      for await (const _ of db.keys({ gte: Uint8Array.of(ITEM_PREFIX), lt: Uint8Array.of(ITEM_PREFIX + 1) })) items++
    } finally {
      await db.close()
      await cluster.startService()
    }
    return items
  }

  it('stores 100 items, each certified by a quorum, naming its service and checkable offline', async () => {
    const service = cluster.genesis.services[0]?.name
    expect(cluster.genesis.services).toHaveLength(1)
    const stored = await storeItems('quorum', ITEMS)
    expect(new Set(stored.map(s => s.id)).size).toBe(ITEMS)
    for (const item of stored) {
      const cert = certificateFromJson(item.certificate)
      // The certificate names the service the genesis registers, and proves it anchored the entry.
      expect(cert.record.service).toBe(service)
      expect(verifyCertificate(cluster.genesis, cert)).toMatchObject({ valid: true, service, entry: item.id })
      const signers = new Set(cert.commit.signatures.map(s => s.validator))
      expect(signers.size).toBeGreaterThanOrEqual(3)
      expect(cert.record.meta.owner).toBe('client-1')
    }
  }, 180_000)

  it('reports an item changed behind the service\'s back as tampered, the others intact', async () => {
    const stored = await storeItems('tamper', 20)
    const victim = stored[7] as Stored
    await cluster.stopService()
    const db = new Level<Uint8Array, Uint8Array>(join(cluster.serviceDataDir, 'store'), { keyEncoding: 'view', valueEncoding: 'view' })
    await db.put(dataKey(fromHex(victim.id)), new TextEncoder().encode('tamper document 7: quietly rewritten'))
    await db.close()
    await cluster.startService()

    const results = await Promise.all(stored.map(async item => {
      const res = await api(`/v1/data/${item.id}/verify`, { method: 'POST' })
      expect(res.status).toBe(200)
      return await res.json() as { id: string, intact: boolean, anchoredHash: string, currentHash: string, attestations: Array<{ outcome: string, entry: string, anchored: string | null }> }
    }))
    const tampered = results.filter(r => !r.intact)
    expect(tampered.map(r => r.id)).toEqual([victim.id])
    expect(tampered[0]?.anchoredHash).toBe(victim.hash)
    expect(tampered[0]?.currentHash).not.toBe(victim.hash)
    // Each answer carries the validators' own signed attestations: a quorum of them.
    for (const r of results) expect(r.attestations.length).toBeGreaterThanOrEqual(3)
    expect(tampered[0]?.attestations.every(a => a.outcome === 'mismatch' && a.anchored === victim.id && a.entry !== victim.id)).toBe(true)
    for (const r of results.filter(r => r.intact)) expect(r.attestations.every(a => a.outcome === 'match' && a.entry === r.id)).toBe(true)
  }, 120_000)

  it('refuses a certificate with one changed byte, online and offline', async () => {
    const good = (await storeItems('one-byte', 1))[0]?.certificate as Record<string, unknown>
    const text = JSON.stringify(good)
    // Change one hex digit of the record's data hash.
    const at = text.indexOf('"dataHash":"') + '"dataHash":"'.length
    const changed = text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1)

    const online = await api('/v1/certificates/verify', { method: 'POST', body: changed, headers: { 'content-type': 'application/json' } })
    expect(online.status).toBe(200)
    expect(await online.json()).toMatchObject({ valid: false })
    const ok = await api('/v1/certificates/verify', { method: 'POST', body: text, headers: { 'content-type': 'application/json' } })
    expect(await ok.json()).toMatchObject({ valid: true, service: cluster.genesis.services[0]?.name })

    const goodFile = join(cluster.dir, 'good-cert.json')
    const badFile = join(cluster.dir, 'bad-cert.json')
    await writeFile(goodFile, text)
    await writeFile(badFile, changed)
    const pass = await run(process.execPath, [CLI_PATH, 'verify-certificate', goodFile, '--genesis', cluster.genesisFile])
    expect(JSON.parse(pass.stdout)).toMatchObject({ valid: true })
    const fail = await run(process.execPath, [CLI_PATH, 'verify-certificate', badFile, '--genesis', cluster.genesisFile]).then(() => undefined, (err: { code: number, stdout: string }) => err)
    expect(fail?.code).toBe(1)
    expect(JSON.parse(fail?.stdout ?? '{}')).toMatchObject({ valid: false })
  }, 60_000)

  it('answers bad requests with their status and changes nothing', async () => {
    const item = (await storeItems('bad-requests', 1))[0] as Stored
    const id = item.id
    const before = await itemsInStore()
    const json = { 'content-type': 'application/json' }
    const cases: Array<[string, Promise<Response>, number]> = [
      ['malformed JSON', api('/v1/hashes', { method: 'POST', body: '{"hash": ', headers: json }), 400],
      ['bad hex hash', api('/v1/hashes', { method: 'POST', body: JSON.stringify({ hash: 'zz'.repeat(32) }), headers: json }), 400],
      ['oversized body', api('/v1/data', { method: 'POST', body: new Uint8Array(1024 * 1024 + 1), headers: { 'content-type': 'application/octet-stream' } }), 413],
      ['unknown id', api(`/v1/data/${'ab'.repeat(32)}`), 404],
      ['no key', api(`/v1/data/${id}`, { key: null }), 401],
      ['wrong key', api(`/v1/data/${id}`, { key: 'not-a-key-of-this-service' }), 401],
      ['another client\'s id', api(`/v1/data/${id}`, { key: OTHER_KEY }), 404],
      ['another client\'s verify', api(`/v1/data/${id}/verify`, { method: 'POST', key: OTHER_KEY }), 404]
    ]
    for (const [what, response, status] of cases) {
      const res = await response
      expect(res.status, what).toBe(status)
      const body = await res.json() as { error?: { code?: string, message?: string } }
      expect(typeof body.error?.code, what).toBe('string')
      expect(typeof body.error?.message, what).toBe('string')
    }
    // Nothing changed: the item is still there, still the same...
    const res = await api(`/v1/data/${id}/certificate`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(item.certificate)
    // ...and the service holds as many items as before the bad requests, no more.
    expect(await itemsInStore()).toBe(before)
  }, 90_000)
})

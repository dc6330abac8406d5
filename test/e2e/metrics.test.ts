/**
 * `GET /metrics` on a validator and on the service of a real cluster: the text is Prometheus
 * exposition line by line, and after hashes are anchored and a stored file is verified, the
 * validator's height and committed entries and the service's certified items and intact verdicts
 * have grown. Logs of processes whose stderr is not a terminal are JSON lines.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sha256 } from '../../consensus/hash.js'
import { toHex } from '../../consensus/ids.js'
import { ProcessCluster } from '../../cli/process-cluster.js'
import { waitFor } from '../../lib/wait-for.js'
import { parseExposition, valueOf, type Exposition } from '../helpers/prometheus-text.js'

const utf8 = new TextEncoder()

describe('metrics of a running cluster', () => {
  let cluster: ProcessCluster

  beforeAll(async () => {
    cluster = await ProcessCluster.create({ validators: 4 })
    await cluster.startNodes()
    await cluster.startService()
  }, 60_000)

  afterAll(async () => { await cluster?.destroy() })

  const scrape = async (base: string): Promise<Exposition> => {
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return parseExposition(await res.text())
  }
  const api = async (path: string, init: RequestInit = {}): Promise<Response> =>
    await fetch(`${cluster.serviceUrl}${path}`, { ...init, headers: { authorization: `Bearer ${cluster.apiKey}`, ...init.headers } })

  it('shows the height, committed entries, certified items and verify outcomes grow', async () => {
    const node = cluster.nodeUrls[0] as string
    const before = await scrape(node)
    const serviceBefore = await scrape(cluster.serviceUrl)
    expect(before.types.get('trustnet_commit_latency_seconds')).toBe('histogram')
    expect(valueOf(before, 'trustnet_peers')).toBeGreaterThanOrEqual(3)
    const height0 = valueOf(before, 'trustnet_height', { validator: '0' }) as number
    const entries0 = valueOf(before, 'trustnet_entries_committed_total') as number
    const certified0 = valueOf(serviceBefore, 'trustnet_items_certified_total') as number
    expect([height0, entries0, certified0].every(Number.isFinite)).toBe(true)

    const hashes = Array.from({ length: 5 }, (_, i) => toHex(sha256(utf8.encode(`metrics ${i} ${Date.now()}`))))
    const batch = await api('/v1/hashes/batch', { method: 'POST', body: JSON.stringify({ hashes }), headers: { 'content-type': 'application/json' } })
    expect(batch.status).toBe(201)
    const stored = await api('/v1/data?name=m.txt', { method: 'POST', body: utf8.encode('kept as it was'), headers: { 'content-type': 'text/plain' } })
    expect(stored.status).toBe(201)
    const { id } = await stored.json() as { id: string }
    expect((await api(`/v1/data/${id}/verify`, { method: 'POST' })).status).toBe(200)

    // The service counts a certificate once stored, before it answers; validator 0 may be a step behind the quorum that certified.
    const after = await waitFor('the validator to count the entries committed', async () => {
      const scraped = await scrape(node)
      return (valueOf(scraped, 'trustnet_entries_committed_total') as number) >= entries0 + 6 ? scraped : undefined
    }, 10_000)
    expect(valueOf(after, 'trustnet_height', { validator: '0' })).toBeGreaterThan(height0)
    expect(valueOf(after, 'trustnet_commit_latency_seconds_count')).toBeGreaterThan(valueOf(before, 'trustnet_commit_latency_seconds_count') as number)
    expect(valueOf(after, 'trustnet_http_request_duration_seconds_count', { route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1)

    const serviceAfter = await scrape(cluster.serviceUrl)
    expect(valueOf(serviceAfter, 'trustnet_items_certified_total')).toBe(certified0 + 6)
    expect(valueOf(serviceAfter, 'trustnet_verify_outcomes_total', { outcome: 'intact' })).toBe(1)
    expect(valueOf(serviceAfter, 'trustnet_verify_outcomes_total', { outcome: 'tampered' })).toBe(0)
    expect(valueOf(serviceAfter, 'trustnet_outbox_items', { state: 'queued' })).toBe(0)
    expect(valueOf(serviceAfter, 'trustnet_http_request_duration_seconds_count', { method: 'POST', route: '/v1/hashes/batch', status: '201' })).toBe(1)
    expect(valueOf(serviceAfter, 'trustnet_process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it('writes JSON log lines when stderr is not a terminal', async () => {
    const lines = (await readFile(join(cluster.dir, 'logs', 'node-0.log'), 'utf8')).split('\n').filter(l => l.startsWith('{'))
    const started = lines.map(l => JSON.parse(l) as { msg?: string, name?: string }).find(l => l.msg === 'validator 0 started')
    expect(started?.name).toBe('node-0')
  })
})

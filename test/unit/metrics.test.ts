/**
 * What the validators and the service export, without a network: the text parses as Prometheus
 * exposition, every metric of ours is documented in docs/metrics.md and every documented one is
 * exported, every expression of the Grafana dashboard names an exported metric, verify answers
 * are counted by outcome, and the log format follows the terminal unless forced.
 */
import { readFile } from 'node:fs/promises'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { logFormat } from '../../lib/log.js'
import { NodeMetrics } from '../../node/metrics.js'
import { serviceMetrics } from '../../service/metrics.js'
import { ExpositionError, parseExposition, valueOf, type Exposition } from '../helpers/prometheus-text.js'

const docsUrl = (name: string): URL => new URL(`../../docs/${name}`, import.meta.url)

async function nodeScrape (): Promise<Exposition> {
  const metrics = new NodeMetrics({ index: 2, status: () => ({ tip: { height: 9, hash: new Uint8Array(32), time: 0 }, round: 1, step: 'propose', leader: 0, mempool: 3 }), connectedPeers: () => ['a', 'b'] })
  metrics.committed({ time: 1_000, entryCount: 4 }, 1_300)
  metrics.submissionRefused('BAD_SIGNATURE')
  const app = Fastify()
  metrics.expose(app)
  app.get('/status', async () => ({}))
  await app.inject('/status')
  return parseExposition((await app.inject('/metrics')).body)
}

async function serviceScrape (verdicts: boolean[] = []): Promise<Exposition> {
  const app = Fastify()
  serviceMetrics(app, { stats: () => ({ certified: 7, inFlight: 1, queued: 2 }) })
  app.post('/v1/data/:id/verify', async req => ({ intact: (req.params as { id: string }).id === 'yes' }))
  for (const intact of verdicts) await app.inject({ method: 'POST', url: `/v1/data/${intact ? 'yes' : 'no'}/verify` })
  return parseExposition((await app.inject('/metrics')).body)
}

/** Our metrics (not prom-client's process ones) and their types. */
async function ourMetrics (): Promise<Map<string, string>> {
  const all = new Map([...(await nodeScrape()).types, ...(await serviceScrape()).types])
  return new Map([...all].filter(([name]) => !/^trustnet_(process|nodejs)_/.test(name)))
}

describe('metrics', () => {
  it('a validator exports its status read at scrape time, commit latency, entries, refusals and HTTP timings', async () => {
    const scraped = await nodeScrape()
    expect(valueOf(scraped, 'trustnet_height', { validator: '2' })).toBe(9)
    expect(valueOf(scraped, 'trustnet_round')).toBe(1)
    expect(valueOf(scraped, 'trustnet_mempool_entries')).toBe(3)
    expect(valueOf(scraped, 'trustnet_peers')).toBe(2)
    expect(valueOf(scraped, 'trustnet_commit_latency_seconds_sum')).toBeCloseTo(0.3)
    expect(valueOf(scraped, 'trustnet_commit_latency_seconds_bucket', { le: '0.25' })).toBe(0)
    expect(valueOf(scraped, 'trustnet_commit_latency_seconds_bucket', { le: '0.5' })).toBe(1)
    expect(valueOf(scraped, 'trustnet_entries_committed_total')).toBe(4)
    expect(valueOf(scraped, 'trustnet_submissions_refused_total', { code: 'BAD_SIGNATURE' })).toBe(1)
    expect(valueOf(scraped, 'trustnet_http_request_duration_seconds_count', { method: 'GET', route: '/status', status: '200' })).toBe(1)
    expect(valueOf(scraped, 'trustnet_process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it('the service exports the outbox\'s figures and counts verify answers by outcome', async () => {
    const scraped = await serviceScrape([true, false, false])
    expect(valueOf(scraped, 'trustnet_items_certified_total')).toBe(7)
    expect(valueOf(scraped, 'trustnet_outbox_items', { state: 'queued' })).toBe(2)
    expect(valueOf(scraped, 'trustnet_outbox_items', { state: 'in_flight' })).toBe(1)
    expect(valueOf(scraped, 'trustnet_verify_outcomes_total', { outcome: 'intact' })).toBe(1)
    expect(valueOf(scraped, 'trustnet_verify_outcomes_total', { outcome: 'tampered' })).toBe(2)
    expect(valueOf(scraped, 'trustnet_http_request_duration_seconds_count', { route: '/v1/data/:id/verify', status: '200' })).toBe(3)
  })

  it('the exposition reader refuses a line that is not Prometheus text', () => {
    expect(() => parseExposition('trustnet_height{validator="0"} 1\n')).not.toThrow()
    for (const bad of ['trustnet height 1', 'trustnet_height{validator=0} 1', 'trustnet_height 1 2 3', 'trustnet_height one', '# TYPE trustnet_height meter']) {
      expect(() => parseExposition(bad), bad).toThrow(ExpositionError)
    }
  })

  it('docs/metrics.md documents exactly the metrics exported, with their types', async () => {
    const doc = await readFile(docsUrl('metrics.md'), 'utf8')
    const rows = new Map([...doc.matchAll(/^\| `(trustnet_[a-z0-9_]+)` \| (\w+) \|/gm)].map(m => [m[1] as string, m[2] as string]))
    expect(rows).toEqual(await ourMetrics())
  })

  it('every expression of the Grafana dashboard names an exported metric', async () => {
    const dashboard = JSON.parse(await readFile(docsUrl('grafana-dashboard.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> }
    const exported = new Map([...(await nodeScrape()).types, ...(await serviceScrape()).types])
    const exprs = dashboard.panels.flatMap(p => p.targets.map(t => t.expr))
    expect(exprs.length).toBeGreaterThanOrEqual(10)
    for (const expr of exprs) {
      const names = [...expr.matchAll(/\btrustnet_[a-z0-9_]+/g)].map(m => m[0])
      expect(names.length, expr).toBeGreaterThan(0)
      for (const name of names) {
        const base = name.replace(/_(bucket|sum|count)$/, '')
        const known = exported.has(name) || (base !== name && exported.get(base) === 'histogram')
        expect(known, `${name} in ${expr}`).toBe(true)
      }
    }
  })

  it('logs are JSON unless stderr is a terminal, and TRUSTNET_LOG_FORMAT forces either', () => {
    expect(logFormat({}, false)).toBe('json')
    expect(logFormat({}, true)).toBe('pretty')
    expect(logFormat({ TRUSTNET_LOG_FORMAT: 'json' }, true)).toBe('json')
    expect(logFormat({ TRUSTNET_LOG_FORMAT: 'pretty' }, false)).toBe('pretty')
    expect(logFormat({ TRUSTNET_LOG_FORMAT: 'fancy' }, false)).toBe('json')
  })
})

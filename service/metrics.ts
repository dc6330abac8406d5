/**
 * The service's Prometheus metrics, served at `GET /metrics` (no API key: counts only, no item).
 * Certified and failed items and the outbox's depth are read from the outbox when scraped; verify outcomes
 * are counted from the verify route's answers, so the routes themselves know nothing of metrics.
 */
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, type Registry } from 'prom-client'
import { exposeMetrics, newRegistry } from '../lib/http-metrics.js'
import type { Outbox } from './outbox.js'

/** The route whose answers say intact or tampered. */
const VERIFY_ROUTE = '/v1/data/:id/verify'

/** Adds the metrics to `app`; call before routes are added. Returns the registry. */
export function serviceMetrics (app: FastifyInstance, outbox: Pick<Outbox, 'stats'> & Partial<Pick<Outbox, 'failedItems'>>): Registry {
  const registry = newRegistry()
  const registers = [registry]
  let certifiedSeen = 0
  new Counter({
    name: 'trustnet_items_certified_total',
    help: 'Items whose certificate the service stored since it started',
    registers,
    collect () {
      const { certified } = outbox.stats()
      this.inc(Math.max(0, certified - certifiedSeen))
      certifiedSeen = certified
    }
  })
  const failedSeen = new Map<string, number>()
  new Counter({
    name: 'trustnet_items_failed_total',
    help: 'Items the validators refused for good since the service started, by their code: marked failed, never submitted again',
    labelNames: ['code'] as const,
    registers,
    collect () {
      for (const [code, n] of outbox.failedItems?.() ?? []) {
        this.inc({ code }, Math.max(0, n - (failedSeen.get(code) ?? 0)))
        failedSeen.set(code, n)
      }
    }
  })
  new Gauge({
    name: 'trustnet_outbox_items',
    help: 'Items in the outbox not yet certified: queued for a round, or in flight to the validators',
    labelNames: ['state'] as const,
    registers,
    collect () {
      const { queued, inFlight } = outbox.stats()
      this.set({ state: 'queued' }, queued)
      this.set({ state: 'in_flight' }, inFlight)
    }
  })
  const verified = new Counter({
    name: 'trustnet_verify_outcomes_total',
    help: 'Answers of the verify route, by outcome: intact or tampered',
    labelNames: ['outcome'] as const,
    registers
  })
  verified.inc({ outcome: 'intact' }, 0)
  verified.inc({ outcome: 'tampered' }, 0)
  app.addHook('preSerialization', async (req, reply, payload) => {
    const intact = (payload as { intact?: unknown } | null)?.intact
    if (req.routeOptions.url === VERIFY_ROUTE && reply.statusCode === 200 && typeof intact === 'boolean') verified.inc({ outcome: intact ? 'intact' : 'tampered' })
    return payload
  })
  exposeMetrics(app, registry, { public: true })
  return registry
}

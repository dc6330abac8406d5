/**
 * Prometheus exposition for a fastify app: a histogram of request durations by method, route
 * (the route's pattern, never the raw path, so ids do not multiply series) and status, and
 * `GET /metrics` answering the registry's text with the process's own metrics. Validators and
 * the service share it.
 */
import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/** Up to the longest a store request may wait for its certificate. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

let processRegistry: Registry | undefined

/**
 * prom-client's default metrics (CPU, memory, event loop lag, handles), collected once per
 * process however many apps it serves (tests run several validators in one process).
 */
function processMetrics (): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry, prefix: 'trustnet_' })
  }
  return processRegistry
}

/** A registry of its own (never prom-client's global one), each series labelled with `labels`. */
export function newRegistry (labels: Record<string, string> = {}): Registry {
  const registry = new Registry()
  registry.setDefaultLabels(labels)
  return registry
}

/**
 * Times every request and serves `GET /metrics`. Call before routes are added. `routeConfig` is
 * merged into the metrics route's config (the service marks it public: no API key).
 */
export function exposeMetrics (app: FastifyInstance, registry: Registry, routeConfig: Record<string, unknown> = {}): void {
  const durations = new Histogram({
    name: 'trustnet_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code, from arrival to the last byte sent',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry]
  })
  app.addHook('onResponse', async (req, reply) => {
    durations.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })
  const processRegistry = processMetrics()
  // Each registry renders its own default labels (a merged one would drop them).
  app.get('/metrics', { config: routeConfig }, async (_req, reply) => {
    const texts = await Promise.all([registry.metrics(), processRegistry.metrics()])
    return await reply.type(registry.contentType).send(texts.join('\n'))
  })
}

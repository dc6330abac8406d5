/**
 * Wiring of the service process: the genesis, the LevelDB store, the node client's libp2p host,
 * the outbox worker and the HTTP server, started in that order and stopped in reverse. Stopping
 * first closes the door (no new requests), then releases requests waiting for certificates (they
 * answer 202: their items stay in the outbox for the next start), then the network, then the store.
 */
import '../lib/promise-shim.js'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { ConfigError } from '../lib/json-file.js'
import { loadGenesis, type ServiceConfig } from './config.js'
import { buildHttpApi, closeHttpApi } from './http-api.js'
import { NodeClient } from './node-client.js'
import { Outbox } from './outbox.js'
import { ServiceStore } from './store.js'
import { makePrivateDir } from '../lib/private-files.js'

export interface StartOptions {
  /** A pino logger (fastify's logger interface); none by default. */
  logger?: FastifyBaseLogger
  /** Clock for record times. @default Date.now */
  now?: () => number
  /** Outbox tuning; the defaults suit production. */
  outbox?: { pollWaitMs?: number, concurrency?: number, maxQueued?: number, lingerMs?: number, backoff?: { minMs?: number, maxMs?: number }, refusedBackoffMs?: number, maxInFlightPerClient?: number }
  /** Per-request timeout towards one node. @default 10_000 */
  nodeRequestTimeoutMs?: number
}

export interface RunningService {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080 */
  readonly url: string
  /** The service's libp2p peer id (what validators see). */
  readonly peerId: string
  stop(): Promise<void>
}

export async function startService (config: ServiceConfig, options: StartOptions = {}): Promise<RunningService> {
  const now = options.now ?? Date.now
  const log = options.logger
  const genesis = await loadGenesis(config.genesisPath)
  const tls = config.http.tls === undefined ? undefined : await readTls(config.http.tls)
  await makePrivateDir(config.dataDir)

  // Started components, stopped in reverse if a later step fails.
  const stops: Array<() => Promise<void>> = []
  const unwind = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(err => log?.error({ err }, 'stop failed'))
  }
  try {
    const store = new ServiceStore(join(config.dataDir, 'store'))
    await store.open()
    stops.push(async () => { await store.close() })

    const nodes = new NodeClient({
      genesis,
      nodes: config.nodes,
      seed: config.seed,
      serviceId: config.serviceId,
      requestTimeoutMs: options.nodeRequestTimeoutMs,
      onBadAnswer: (node, protocol, reason) => log?.warn({ node, protocol, reason }, 'unusable answer from node')
    })
    await nodes.start()
    stops.push(async () => { await nodes.stop() })

    const outbox = new Outbox({
      store,
      nodes,
      maxBatch: config.limits.maxBatch,
      ...options.outbox,
      onError: err => log?.warn({ err }, 'outbox round failed; will retry'),
      onRefused: (err, items) => log?.error({ err, items, serviceId: config.serviceId }, 'the validators refused a batch for good: its items are marked failed (if the code is about the service itself, check its name and key in the genesis)')
    })
    await outbox.start()
    stops.push(async () => { await outbox.stop() })

    const app = await buildHttpApi({
      serviceId: config.serviceId,
      apiKeys: config.apiKeys,
      maxBodyBytes: config.limits.maxBodyBytes,
      certificateWaitMs: config.certificateWaitMs,
      genesis,
      store,
      outbox,
      nodes,
      now,
      logger: log,
      limits: config.limits,
      http: config.http,
      tls
    })
    // A burst of new clients must wait in the accept queue, not be dropped into SYN retries (seconds each).
    await app.listen({ host: config.http.host, port: config.http.port, backlog: 4096 })
    // Closing the server waits for requests in flight; those waiting for a certificate are
    // released by stopping the outbox, so it stops while the server drains.
    stops.push(async () => { await closeHttpApi(app, async () => { await outbox.stop() }) })

    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.http.port
    const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host
    const url = `${tls === undefined ? 'http' : 'https'}://${host}:${port}`
    const peerId = nodes.peerId ?? ''
    log?.info({ url, peerId }, 'service started')

    let stopping: Promise<void> | undefined
    return {
      url,
      peerId,
      stop: async () => {
        stopping ??= unwind()
        await stopping
      }
    }
  } catch (err) {
    await unwind()
    throw err
  }
}

/** The PEM files named by `http.tls`; a file that cannot be read is a ConfigError naming it. */
async function readTls (files: { certFile: string, keyFile: string }): Promise<{ cert: Uint8Array, key: Uint8Array }> {
  const read = async (file: string): Promise<Uint8Array> => {
    try {
      return await readFile(file)
    } catch (err) {
      throw new ConfigError('CONFIG_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err })
    }
  }
  return { cert: await read(files.certFile), key: await read(files.keyFile) }
}

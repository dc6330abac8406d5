/**
 * The HTTP API for client devices (fastify 5). Each API key is one client, who sees only its own
 * items (another client's id answers 404, like an unknown one). Input is checked at the door
 * (auth, size, hex, JSON, field bounds) before anything is stored; a stored item is in the
 * outbox before the client is answered. An item's id is its ledger entry (the salted commitment
 * the validators hold). Certificates and attestations travel as JSON with byte fields in
 * lowercase hex. POST /v1/certificates/verify answers 400 only for a body that is not
 * JSON; any JSON value gets a verdict (a value that is not a certificate: valid false, with the
 * decoder's reason), so the endpoint is a total function of its input. Each route documents
 * itself in `config.openapi` (service/openapi.ts: the API's document at /docs); a route added
 * without it fails the OpenAPI test.
 */
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { z } from 'zod'
import { CertificateVerifier } from '../consensus/certificate.js'
import { validate } from '../consensus/codec.js'
import { entryOf } from '../consensus/entries.js'
import { TrustnetError } from '../consensus/errors.js'
import { sha256 } from '../consensus/hash.js'
import { fromHex, toHex } from '../consensus/ids.js'
import { certificateFromJson, parseJson, toJson, type Json } from '../consensus/json.js'
import { LIMITS } from '../consensus/limits.js'
import { MAX_BATCH } from '../protocol/node-api.js'
import { LedgerRecordSchema, displayText, uint, type Certificate, type Genesis, type LedgerRecord, type RecordMetadata } from '../consensus/types.js'
import { ClientGate } from './client-gate.js'
import type { ApiKey, ServiceConfig } from './config.js'
import { StoppedError } from './errors.js'
import { refuseOnSocket } from '../lib/http-door.js'
import { registerGenesisRoute } from './genesis-route.js'
import { registerItemRoutes } from './item-routes.js'
import { AnchoredSchema, BatchAnswerSchema, FailedSchema, CertificateJsonSchema, CertificateVerdictSchema, DataVerdictSchema, HealthSchema, ItemParamsSchema, PendingSchema, StatusSchema, StoredSchema, registerDocsPage, registerOpenApi, type RouteDoc } from './openapi.js'
import { badRequest, conflict, notFound, rateLimited, toErrorReply, unauthorized, type ErrorReply } from './http-errors.js'
import type { NodeClient } from './node-client.js'
import { serviceMetrics } from './metrics.js'
import { isFailure, type Outbox, type Outcome } from './outbox.js'
import type { Item, ItemFailure, ServiceStore } from './store.js'

export interface HttpApiInit {
  serviceId: string
  apiKeys: readonly ApiKey[]
  /** Largest upload accepted by POST /v1/data. */
  maxBodyBytes: number
  /** How long a store request waits for its certificate before answering 202. */
  certificateWaitMs: number
  genesis: Genesis
  store: ServiceStore
  outbox: Pick<Outbox, 'add' | 'waitForCertificate' | 'waitForCertificates' | 'stats' | 'failedItems' | 'unsettledOf'>
  nodes: Pick<NodeClient, 'verify'>
  now: () => number
  logger?: FastifyBaseLogger
  /** The door's limits (rates, turns, failed logins) and the server's timeouts and CORS origins; the defaults of the config schema when absent. */
  limits?: Partial<DoorLimits>
  http?: Partial<DoorHttp>
  /** PEM certificate and key: serve HTTPS. */
  tls?: { cert: Uint8Array, key: Uint8Array }
}

export type DoorLimits = Pick<ServiceConfig['limits'], 'rate' | 'inFlightPerClient' | 'queuedPerClient' | 'pendingPerClient' | 'authFailures'>
export type DoorHttp = Pick<ServiceConfig['http'], 'corsOrigins' | 'maxConnections' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'explorerUrl'>

const DEFAULT_LIMITS: DoorLimits = {
  rate: { max: 120_000, windowMs: 60_000 },
  inFlightPerClient: 64,
  queuedPerClient: 1024,
  pendingPerClient: 20_000,
  authFailures: { max: 20, windowMs: 60_000 }
}
const DEFAULT_HTTP: DoorHttp = { corsOrigins: [], maxConnections: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5_000 }
/** Routes that store new records: the door bounds each client's records waiting for certificates. */
const ANCHORING_ROUTES = new Set(['/v1/data', '/v1/hashes', '/v1/hashes/batch'])
/** Ids are 64 characters; a longer path parameter is refused (414) before any route runs. */
const MAX_PARAM_CHARS = 128

/** JSON bodies are small (the largest is a certificate); uploads have their own limit. */
const JSON_BODY_BYTES = 1024 * 1024
const DEFAULT_CONTENT_TYPE = 'application/octet-stream'
const HEX32 = /^[0-9a-f]{64}$/
const utf8Encoder = new TextEncoder()

const StoreQuerySchema = z.object({
  name: displayText(LIMITS.nameChars).optional(),
  wait: z.enum(['true', 'false']).optional()
})
const WaitQuerySchema = z.object({ wait: z.enum(['true', 'false']).optional() })
const contentTypeSchema = displayText(LIMITS.contentTypeChars)

/** Documented, not checked, by the schema: the handler refuses a hash that is not hex as INVALID_HEX. */
const sha256Hex = z.string().meta({ pattern: HEX32.source, description: 'SHA-256 of the data, 64 lowercase hex characters' })

const AnchorBodySchema = z.strictObject({
  hash: sha256Hex,
  metadata: z.strictObject({
    name: displayText(LIMITS.nameChars).optional(),
    size: uint.optional(),
    contentType: displayText(LIMITS.contentTypeChars).optional()
  }).optional()
})

const BatchBodySchema = z.strictObject({
  hashes: z.array(sha256Hex).min(1).max(MAX_BATCH),
  /** Applied to every record of the batch. */
  metadata: AnchorBodySchema.shape.metadata
})

export async function buildHttpApi (init: HttpApiInit): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...init.limits }
  const http = { ...DEFAULT_HTTP, ...init.http }
  // Node checks the header and request timeouts on this period: a quarter of the shorter one.
  const server = { connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(http.headersTimeoutMs / 4))), headersTimeout: http.headersTimeoutMs }
  const app = fastify({
    ...(init.logger !== undefined ? { loggerInstance: init.logger } : { logger: false }),
    ...(init.tls !== undefined ? { https: { ...server, cert: Buffer.from(init.tls.cert), key: Buffer.from(init.tls.key) } } : { http: server }),
    bodyLimit: JSON_BODY_BYTES,
    routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // Refused by our own hook instead, so the answer has the API's error format.
    return503OnClosing: false,
    // Refusals fastify makes before routing (a bad URL, a path parameter too long) in the API's format too.
    frameworkErrors: (err, _req, reply) => { sendError(reply, toErrorReply(err)) },
    clientErrorHandler: (err, socket) => { refuseOnSocket(err, socket) }
  })
  // First: the document lists the routes added after it.
  await registerOpenApi(app)
  // /metrics is added by code shared with the validators: its documentation is attached here.
  app.addHook('onRoute', route => { if (route.url === '/metrics') route.config = { ...route.config, openapi: METRICS_DOC } })
  serviceMetrics(app, init.outbox)
  app.server.maxConnections = http.maxConnections
  const clients = new ClientKeys(init.apiKeys)
  const gate = new ClientGate(limits.inFlightPerClient, limits.queuedPerClient)
  void app.register(rateLimit, { global: false, cache: 10_000 })
  // Bearer keys, not cookies: a page of an allowed origin can only use a key its user gives it.
  if (http.corsOrigins.length > 0) {
    void app.register(cors, {
      origin: http.corsOrigins.includes('*') ? '*' : http.corsOrigins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['retry-after'],
      maxAge: 600
    })
  }
  /** Made on the first request: the rate-limit plugin is loaded by then. */
  let limiters: { requests: RateLimiter, authFailures: RateLimiter } | undefined
  const verifier = new CertificateVerifier(init.genesis)
  const clientOf = new WeakMap<FastifyRequest, string>()
  /** Items newly stored since start. */
  let storedCount = 0

  // Every body arrives as bytes: uploads keep their exact bytes, JSON routes parse them themselves
  // so that a bad body is a 400 in our format whatever content type the caller sent.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => { done(null, body) })

  app.setErrorHandler((err, req, reply) => {
    const answer = toErrorReply(err)
    if (answer.status === 500) req.log.error({ err }, 'request failed')
    sendError(reply, answer)
  })
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such route' } })
  })
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // A connection busy when closing began would otherwise stay open as keep-alive and hold close() up.
  app.addHook('onSend', async (_req, reply) => { if (closing) void reply.header('connection', 'close') })
  // Records of each client being stored right now: counted with the outbox's unsettled ones, so
  // requests arriving together cannot all pass the bound before any of them reaches the outbox.
  const storing = new Map<string, number>()
  /** 429 when `n` more records would take the client past its bound of records waiting for certificates. */
  const refusePastPendingBound = (reply: FastifyReply, client: string, n: number): void => {
    if (init.outbox.unsettledOf(client) + (storing.get(client) ?? 0) + n > limits.pendingPerClient) {
      throw retryLater(reply, 1, `this client has ${limits.pendingPerClient} records or more waiting for certificates: retry once some are certified`)
    }
  }
  // The door, in order: an IP that failed to authenticate too often waits; the key is checked
  // (a failure counts against the IP); the client's (or, on public routes, the IP's) request
  // rate is checked; then the request waits for one of the client's turns, held until its answer
  // is sent or its connection closes.
  app.addHook('onRequest', async (req, reply) => {
    if (closing) throw new StoppedError()
    limiters ??= {
      requests: app.createRateLimit({ max: limits.rate.max, timeWindow: limits.rate.windowMs, keyGenerator: req => clientOf.get(req) ?? `ip:${req.ip}` }),
      authFailures: app.createRateLimit({ max: limits.authFailures.max, timeWindow: limits.authFailures.windowMs })
    }
    const isPublic = req.routeOptions.config.public === true
    if (!isPublic) {
      const failures = await limiters.authFailures(req, { increment: false })
      if (!failures.isAllowed && failures.remaining === 0) throw retryLater(reply, failures.ttlInSeconds, 'too many failed authentications from this address')
      try {
        clientOf.set(req, clients.authenticate(req.headers.authorization))
      } catch (err) {
        await limiters.authFailures(req)
        throw err
      }
    }
    const rate = await limiters.requests(req)
    if (!rate.isAllowed && rate.isExceeded) throw retryLater(reply, rate.ttlInSeconds, 'too many requests')
    const client = clientOf.get(req)
    if (client === undefined) return
    // A client already at its bound of records waiting is refused before its body is read: a
    // refused burst costs the service a header, not the parsing of a thousand hashes.
    if (ANCHORING_ROUTES.has(req.routeOptions.url ?? '')) refusePastPendingBound(reply, client, 1)
    const gone = new AbortController()
    reply.raw.once('close', () => { gone.abort() })
    const leave = await gate.enter(client, gone.signal)
    // Also when the caller left while waiting: nothing of its request is done.
    if (leave === undefined) throw retryLater(reply, 1, 'too many requests of this client waiting')
    if (gone.signal.aborted) {
      leave()
      throw retryLater(reply, 1, 'the caller left')
    }
    reply.raw.once('close', leave)
  })
  const client = (req: FastifyRequest): string => {
    const c = clientOf.get(req)
    if (c === undefined) throw unauthorized('missing API key')
    return c
  }

  /** The caller's item under `id`, or 404 (also when it belongs to another client). */
  const ownedItem = async (req: FastifyRequest): Promise<Item> => {
    const id = parseId((req.params as { id?: unknown }).id)
    const item = await init.store.getItem(id)
    if (item === undefined || item.client !== client(req)) throw notFound()
    return item
  }

  /** Store and hand to the outbox `n` new records of `owner`, or refuse with 429 past the client's pending bound. */
  const admit = async (reply: FastifyReply, owner: string, n: number, put: () => Promise<Item[]>): Promise<Item[]> => {
    refusePastPendingBound(reply, owner, n)
    storing.set(owner, (storing.get(owner) ?? 0) + n)
    try {
      const items = await put()
      storedCount += items.length
      init.outbox.add(items)
      return items
    } finally {
      const left = (storing.get(owner) ?? n) - n
      if (left === 0) storing.delete(owner)
      else storing.set(owner, left)
    }
  }

  /** Store a new item (under a fresh salt), hand it to the outbox and, unless told not to, wait for its certificate. */
  const anchor = async (req: FastifyRequest, reply: FastifyReply, record: LedgerRecord, wait: boolean, data?: Uint8Array): Promise<{ id: string, certificate: Outcome | undefined }> => {
    const owner = client(req)
    const [item] = await admit(reply, owner, 1, async () => [await init.store.putItem({ client: owner, record, createdAt: record.meta.clientTime ?? init.now() }, data)]) as [Item]
    const id = toHex(item.id)
    if (!wait) return { id, certificate: undefined }
    return { id, certificate: await init.outbox.waitForCertificate(item.id, init.certificateWaitMs, closeSignal(reply), true) }
  }

  // Health, and where to find the network's explorer when the operator named it.
  app.get('/v1/health', { config: { public: true, openapi: doc('health', 'operations', 'Is the service up? Also names the network\'s explorer page when the operator set one', { 200: { description: 'Up', schema: HealthSchema } }) } }, async () => ({ status: 'ok', ...(http.explorerUrl !== undefined ? { explorer: http.explorerUrl } : {}) }))

  // Counters since the service started (any client may read them: they reveal no item).
  app.get('/v1/status', { config: { openapi: doc('status', 'operations', 'Counters since the service started', { 200: { description: 'The outbox\'s counts and the items stored', schema: StatusSchema } }) } }, async () => ({ ...init.outbox.stats(), stored: storedCount }))

  app.post('/v1/data', {
    bodyLimit: init.maxBodyBytes,
    config: {
      openapi: {
        ...doc('storeData', 'data', 'Store data and anchor its hash', {
          201: { description: 'Stored and certified', schema: StoredSchema },
          202: { description: 'Stored, not certified within the wait (or wait=false): fetch the certificate later', schema: PendingSchema },
          409: { description: 'Refused for good by the validators: never certified', schema: FailedSchema }
        }, [400, 413]),
        description: 'The body is the data, any content type (recorded and served back with it; application/octet-stream when absent). The answer waits for the certificate unless `wait=false`.',
        querystring: StoreQuerySchema,
        body: 'bytes'
      }
    }
  }, async (req, reply) => {
    const query = parseQuery(StoreQuerySchema, req.query)
    const contentType = parseField(contentTypeSchema, req.headers['content-type'] ?? DEFAULT_CONTENT_TYPE, 'content-type')
    const data = req.body instanceof Uint8Array ? req.body : new Uint8Array(0)
    const hash = sha256(data)
    const record = ledgerRecord(init, hash, { name: query.name, size: data.length, contentType, owner: client(req), clientTime: init.now() })
    const { id, certificate: cert } = await anchor(req, reply, record, query.wait !== 'false', data)
    if (cert === undefined) return await reply.code(202).send({ id, hash: toHex(hash), status: 'pending' })
    if (isFailure(cert)) return await reply.code(409).send(failedJson(id, cert))
    return await reply.code(201).send({ id, hash: toHex(hash), size: data.length, certificate: certificateJson(cert) })
  })

  app.get('/v1/data/:id', {
    config: { openapi: { ...doc('getData', 'data', 'The stored data, exactly as sent', { 200: { description: 'The data, with the content type it was stored with', mediaType: '*/*' } }, ID_REFUSALS), params: ItemParamsSchema } }
  }, async (req, reply) => {
    const item = await ownedItem(req)
    const data = item.hasData ? await init.store.getData(item.id) : undefined
    if (data === undefined) throw notFound('no data is stored for this item')
    return await reply
      .type(item.record.meta.contentType ?? DEFAULT_CONTENT_TYPE)
      // Uploaded content is served as data, never run as a page of this origin.
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', 'sandbox')
      .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  })

  app.get('/v1/data/:id/certificate', {
    config: {
      openapi: {
        ...doc('getCertificate', 'data', 'The item\'s certificate', {
          200: { description: 'The certificate, checkable offline against the genesis', schema: CertificateJsonSchema },
          202: { description: 'Not certified yet', schema: PendingSchema },
          409: { description: 'Refused for good by the validators: never certified', schema: FailedSchema }
        }, ID_REFUSALS),
        params: ItemParamsSchema
      }
    }
  }, async (req, reply) => {
    const item = await ownedItem(req)
    if (item.failure !== null) return await reply.code(409).send(failedJson(toHex(item.id), item.failure))
    if (item.certificate === null) return await reply.code(202).send({ id: toHex(item.id), status: 'pending' })
    return certificateJson(item.certificate)
  })

  // Re-read the data, re-hash it, rebuild the entry with the item's salt, and ask the validators
  // whether that is the entry anchored where the certificate says: intact only on a quorum of matches.
  app.post('/v1/data/:id/verify', {
    config: {
      openapi: {
        ...doc('verifyData', 'data', 'Is the stored data still what was anchored?', {
          200: { description: 'The verdict, with each validator\'s signed attestation', schema: DataVerdictSchema }
        }, [...ID_REFUSALS, 409, 503]),
        description: 'The service reads the data back, hashes it, rebuilds the entry and asks the validators whether it is the one anchored where the certificate says; intact only on a quorum of matches. No body.',
        params: ItemParamsSchema
      }
    }
  }, async req => {
    const item = await ownedItem(req)
    if (!item.hasData) throw conflict('NO_DATA', 'this item is a hash anchored without data: there is nothing to read back')
    const cert = item.certificate
    if (cert === null) throw conflict('NOT_CERTIFIED', 'this item is not anchored yet')
    const id = toHex(item.id)
    const anchoredHash = toHex(item.record.dataHash)
    const data = await init.store.getData(item.id)
    // Bytes gone from the store are as tampered as changed ones; no node can vouch for missing data.
    if (data === undefined) return { id, intact: false, anchoredHash, currentHash: null, attestations: [] }
    const currentHash = sha256(data)
    const entry = entryOf({ ...item.record, dataHash: currentHash }, item.salt)
    const outcome = await init.nodes.verify(entry, cert.header.height, cert.proof.index)
    return {
      id,
      intact: outcome.matches >= outcome.quorum,
      anchoredHash,
      currentHash: toHex(currentHash),
      attestations: outcome.attestations.map(toJson)
    }
  })

  app.post('/v1/hashes', {
    config: {
      openapi: {
        ...doc('anchorHash', 'hashes', 'Anchor the SHA-256 of data kept elsewhere', {
          201: { description: 'Anchored and certified', schema: AnchoredSchema },
          202: { description: 'Anchored, not certified within the wait (or wait=false)', schema: PendingSchema },
          409: { description: 'Refused for good by the validators: never certified', schema: FailedSchema }
        }, [400, 413]),
        querystring: WaitQuerySchema,
        body: AnchorBodySchema
      }
    }
  }, async (req, reply) => {
    const query = parseQuery(WaitQuerySchema, req.query)
    const body = parseField(AnchorBodySchema, jsonBody(req.body), 'body')
    if (!HEX32.test(body.hash)) throw badRequest('INVALID_HEX', 'hash must be 64 lowercase hex characters (SHA-256)')
    const record = ledgerRecord(init, fromHex(body.hash), { ...body.metadata, owner: client(req), clientTime: init.now() })
    const { id, certificate: cert } = await anchor(req, reply, record, query.wait !== 'false')
    if (cert === undefined) return await reply.code(202).send({ id, status: 'pending' })
    if (isFailure(cert)) return await reply.code(409).send(failedJson(id, cert))
    return await reply.code(201).send({ id, certificate: certificateJson(cert) })
  })

  // Up to MAX_BATCH hashes in one request: one store write, one certificate each.
  app.post('/v1/hashes/batch', {
    config: {
      openapi: {
        ...doc('anchorHashes', 'hashes', `Anchor up to ${MAX_BATCH} hashes at once`, {
          200: { description: 'All settled, some refused for good (those items are failed)', schema: BatchAnswerSchema },
          201: { description: 'All anchored and certified', schema: BatchAnswerSchema },
          202: { description: 'Anchored; some (or, with wait=false, all) not certified yet', schema: BatchAnswerSchema }
        }, [400, 413]),
        description: 'One certificate per hash; the metadata applies to every record of the batch.',
        querystring: WaitQuerySchema,
        body: BatchBodySchema
      }
    }
  }, async (req, reply) => {
    const query = parseQuery(WaitQuerySchema, req.query)
    const body = parseField(BatchBodySchema, jsonBody(req.body), 'body')
    const bad = body.hashes.findIndex(h => !HEX32.test(h))
    if (bad !== -1) throw badRequest('INVALID_HEX', `hashes[${bad}] must be 64 lowercase hex characters (SHA-256)`)
    const owner = client(req)
    const now = init.now()
    // Every record of the batch differs only in its hash: the first is checked against the schema, the rest share its metadata.
    const first = ledgerRecord(init, fromHex(body.hashes[0] as string), { ...body.metadata, owner, clientTime: now })
    const records = body.hashes.map((h, i) => i === 0 ? first : { ...first, dataHash: fromHex(h) })
    const items = await admit(reply, owner, records.length, async () => await init.store.putItems(records.map(record => ({ input: { client: owner, record, createdAt: now } }))))
    const pending = (item: Item): Json => ({ id: toHex(item.id), status: 'pending' })
    if (query.wait === 'false') return await reply.code(202).send({ items: items.map(pending) })
    // Registered in the same turn as add(): no round can have certified them yet.
    const certs = await init.outbox.waitForCertificates(items.map(i => i.id), init.certificateWaitMs, closeSignal(reply), true)
    const answer = items.map((item, i) => {
      const cert = certs[i]
      if (cert === undefined) return pending(item)
      return isFailure(cert) ? failedJson(toHex(item.id), cert) : { id: toHex(item.id), certificate: certificateJson(cert) }
    })
    // 201 when every item is certified, 202 while some are pending, 200 when all are settled and some failed.
    const status = certs.some(c => c === undefined) ? 202 : certs.every(c => c !== undefined && !isFailure(c)) ? 201 : 200
    return await reply.code(status).send({ items: answer })
  })

  registerItemRoutes(app, { store: init.store, client })
  registerGenesisRoute(app, init.genesis)

  app.post('/v1/certificates/verify', {
    config: {
      openapi: {
        ...doc('verifyCertificate', 'certificates', 'Check a certificate against this network\'s genesis', {
          200: { description: 'The verdict: what it certifies, or why it is refused. Any JSON value gets one.', schema: CertificateVerdictSchema }
        }, [400, 413]),
        description: 'The body is a certificate in its JSON form; 400 only for a body that is not JSON.',
        body: CertificateJsonSchema
      }
    }
  }, async req => {
    const json = jsonBody(req.body)
    let cert: Certificate
    try {
      cert = certificateFromJson(json)
    } catch (err) {
      if (err instanceof TrustnetError) return { valid: false, reason: err.code, message: err.message }
      throw err
    }
    return verifier.verify(cert)
  })

  await registerDocsPage(app)
  return app
}

/** The refusals of the routes of one item. */
const ID_REFUSALS = [400, 404, 414] as const

function doc (operationId: string, tag: RouteDoc['tag'], summary: string, answers: RouteDoc['answers'], refusals?: RouteDoc['refusals']): RouteDoc {
  return { operationId, tag, summary, answers, ...(refusals !== undefined ? { refusals } : {}) }
}

const METRICS_DOC: RouteDoc = {
  ...doc('metrics', 'operations', 'Prometheus metrics (no item is revealed)', { 200: { description: 'Prometheus text exposition (docs/metrics.md)', mediaType: 'text/plain' } }),
  description: 'Public: no API key.'
}

/**
 * Close the server while `drain` releases requests still in flight (those waiting for
 * certificates). Connections that finish a response after close() began are swept until the
 * server is closed: fastify closes idle connections only once, at the start.
 */
export async function closeHttpApi (app: FastifyInstance, drain: () => Promise<void>): Promise<void> {
  const closing = app.close()
  const sweep = setInterval(() => { app.server.closeIdleConnections() }, 50)
  try {
    await drain()
    await closing
  } finally {
    clearInterval(sweep)
  }
}

const BEARER = /^Bearer +(\S+)$/i
const keyHash = (key: string): string => toHex(sha256(utf8Encoder.encode(key)))

/**
 * API keys are configured and looked up by their SHA-256 only: the service never holds a key, and
 * the lookup time says nothing about how close a guess was.
 */
class ClientKeys {
  private readonly byHash: Map<string, string>

  constructor (keys: readonly ApiKey[]) {
    this.byHash = new Map(keys.map(k => [k.keySha256, k.client]))
  }

  authenticate (header: string | undefined): string {
    if (header === undefined) throw unauthorized('missing API key: send Authorization: Bearer <key>')
    const match = BEARER.exec(header)
    const client = match === null ? undefined : this.byHash.get(keyHash(match[1] as string))
    if (client === undefined) throw unauthorized('invalid API key')
    return client
  }
}

function ledgerRecord (init: HttpApiInit, dataHash: Uint8Array, meta: RecordMetadata): LedgerRecord {
  const clean = Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined)) as RecordMetadata
  return parseField(LedgerRecordSchema, { v: 2, dataHash, meta: clean, service: init.serviceId }, 'record')
}

/** `fn` with its answers kept per argument object, for as long as that object lives. */
function memoize<K extends object, V> (fn: (key: K) => V): (key: K) => V {
  const answers = new WeakMap<K, V>()
  return key => {
    let answer = answers.get(key)
    if (answer === undefined) {
      answer = fn(key)
      answers.set(key, answer)
    }
    return answer
  }
}

/** JSON forms of headers and commits, made once per block: the answers for its items share them. */
const jsonOnce = memoize((value: object): Json => toJson(value))
/** Hex of Merkle tree nodes: the upper ones are siblings in the proofs of many items of a block. */
const hexOnce = memoize(toHex)

/** An item the validators refused for good: their code and message, in the error format. */
function failedJson (id: string, failure: ItemFailure): Json {
  return { id, status: 'failed', error: { code: failure.code, message: failure.message } }
}

/** toJson(cert), sharing the work between certificates of one block. */
function certificateJson (cert: Certificate): Json {
  const proof = { index: cert.proof.index, siblings: cert.proof.siblings.map(hexOnce) }
  return { v: cert.v, chainId: cert.chainId, record: recordJson(cert.record), salt: toHex(cert.salt), header: jsonOnce(cert.header), proof, commit: jsonOnce(cert.commit) }
}

/**
 * toJson(record) for the one shape a record has: its only bytes are the data hash, and its
 * metadata (text and numbers) is its own JSON. The generic walk cost as much as serializing the
 * whole certificate.
 */
function recordJson (record: LedgerRecord): Json {
  return { v: record.v, dataHash: toHex(record.dataHash), meta: record.meta as Record<string, Json>, service: record.service }
}

function parseId (value: unknown): Uint8Array {
  const id = ItemParamsSchema.shape.id.safeParse(value)
  if (!id.success) throw badRequest('INVALID_ID', 'id must be 64 lowercase hex characters')
  return fromHex(id.data)
}

function parseQuery<S extends z.ZodType> (schema: S, query: unknown): z.infer<S> {
  return parseField(schema, query, 'query')
}

/** Schema check with a 400 naming the offending field. */
function parseField<S extends z.ZodType> (schema: S, value: unknown, what: string): z.infer<S> {
  try {
    return validate(schema, value)
  } catch (err) {
    if (err instanceof TrustnetError) throw badRequest('INVALID_FIELD', `${what}: ${err.message}`)
    throw err
  }
}

/** The body as JSON, read strictly (parseJson: no duplicate keys, no lone surrogates, UTF-8 only). */
function jsonBody (body: unknown): unknown {
  if (!(body instanceof Uint8Array) || body.length === 0) throw badRequest('MALFORMED_JSON', 'a JSON body is required')
  try {
    return parseJson(body)
  } catch (err) {
    if (err instanceof TrustnetError) throw badRequest('MALFORMED_JSON', `body: ${err.message}`)
    throw err
  }
}

type RateLimiter = ReturnType<FastifyInstance['createRateLimit']>

/** A 429 whose Retry-After says when to come back. */
function retryLater (reply: FastifyReply, seconds: number, message: string): Error {
  void reply.header('retry-after', String(Math.max(1, seconds)))
  return rateLimited(message)
}

function sendError (reply: FastifyReply, { status, code, message }: ErrorReply): void {
  if (status === 401) void reply.header('www-authenticate', 'Bearer')
  void reply.code(status).send({ error: { code, message } })
}

/** Fires when the client goes away, so a waiting request stops waiting. */
function closeSignal (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  // 'close' also follows every answer sent; aborting then would only build an AbortError per request.
  reply.raw.once('close', () => { if (!reply.raw.writableFinished) controller.abort() })
  return controller.signal
}

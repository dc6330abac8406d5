/**
 * The node's read-only HTTP API for operators and explorers: status (height, round, leader,
 * entries waiting, peers, the validator set and which of them this validator is connected to,
 * registered services), the genesis, the latest blocks in summary, a block by height (its
 * submissions' entries in hex), where an entry sits, evidence of validators that signed
 * conflicting messages, Prometheus metrics (GET /metrics, when given), and the explorer page
 * (GET / and /explorer, built into dist/explorer). A validator holds entries only, never a
 * record, so none is shown. Errors are JSON `{ error: { code, message } }`, also the refusals
 * made before a route runs. The door, for a port that may face the internet: a request rate per
 * address (and a tighter one for whole blocks), a bound on whole blocks being answered at once, a
 * connection cap, and timeouts for a request to arrive and for an idle connection.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { z } from 'zod'
import { fromHex, toHex } from '../consensus/ids.js'
import { toJson } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'
import type { ConsensusDriver } from './driver.js'
import type { NodeMetrics } from './metrics.js'
import type { LinkControl } from '../net/host.js'
import { addressMatcher, refuseOnSocket, serverTimeouts } from '../lib/http-door.js'
import { leafAt, type ChainStore } from './store/chain-store.js'

export interface NodeHttpDeps {
  genesis: Genesis
  index: number
  peerId: string
  validatorPeerIds: string[]
  driver: ConsensusDriver
  store: ChainStore
  connectedPeers: () => string[]
  /** Served at GET /metrics, with every request timed. */
  metrics?: NodeMetrics
  /** Present only when fault injection is enabled (TRUSTNET_FAULT_INJECTION=1), for tests. */
  links?: LinkControl
  /** The door's limits (node.json `http`); NODE_HTTP_DEFAULTS for any left out. */
  door?: Partial<NodeHttpDoor>
}

export interface Rate { max: number, windowMs: number }
export interface NodeHttpDoor {
  rate: Rate
  blockRate: Rate
  /** Addresses and subnets that skip the rates. */
  exempt: string[]
  maxConnections: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
}

/**
 * The explorer page polls /status once a second and /blocks?latest when the height moves: 120
 * requests a minute per open page at most, so 1,200 leaves room for ten pages behind one address
 * and never refuses one. It never asks for a whole block; a whole block answers up to 1.3 MB
 * (20,000 entries in submissions of 1,000) or 4.7 MB (one entry per submission) at the default
 * maxBlockEntries, so an address gets one a second. Loopback is exempt by default: the callers
 * there are this machine's own tools (the bench and the tests read every block of the chain as
 * fast as the validator answers, and poll /status every 200 ms), and no stranger reaches the port
 * through it unless the operator puts a proxy on this machine in front, who then sets `exempt: []`.
 */
export const NODE_HTTP_DEFAULTS: NodeHttpDoor = {
  rate: { max: 1200, windowMs: 60_000 },
  blockRate: { max: 60, windowMs: 60_000 },
  exempt: ['127.0.0.0/8', '::1'],
  maxConnections: 512,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000
}
/**
 * Whole blocks being answered at once, from every address together: each holds its JSON (up to
 * a few MB) until sent, so this bounds their memory where the per-address rate cannot (many
 * addresses). More than the bench's eight parallel reads.
 */
export const MAX_BLOCKS_IN_FLIGHT = 16
/** The only body is POST /admin/links' list of indices. */
const BODY_LIMIT = 16 * 1024

const HASH_HEX = /^[0-9a-f]{64}$/
const MAX_EVIDENCE_PAGE = 100
/** Most blocks GET /blocks?latest=N summarises at once. */
export const MAX_LATEST_BLOCKS = 50
const decimal = (max: number) => z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number).pipe(z.number().int().min(0).max(max))
const EvidenceQuerySchema = z.strictObject({
  fromHeight: decimal(Number.MAX_SAFE_INTEGER).optional(),
  limit: decimal(MAX_EVIDENCE_PAGE).pipe(z.number().min(1)).optional()
})
const LatestQuerySchema = z.strictObject({ latest: decimal(MAX_LATEST_BLOCKS).pipe(z.number().min(1)).optional() })

/** The explorer's built files and their types; nothing else is served from its folder. */
const EXPLORER_FILES: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['explorer.js', 'text/javascript; charset=utf-8'],
  ['explorer.css', 'text/css; charset=utf-8']
])
/** The page fetches from this validator alone and runs no inline code. */
const EXPLORER_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/**
 * Where the built explorer is: dist/explorer beside the compiled node/, or, when this module runs
 * from source, the repository's dist/explorer. Undefined when the build has not made it.
 */
function explorerDir (): URL | undefined {
  return [new URL('../explorer/', import.meta.url), new URL('../dist/explorer/', import.meta.url)]
    .find(dir => existsSync(new URL('explorer.js', dir)))
}

function memoryMiB (): { rss: number, heapUsed: number } {
  const m = process.memoryUsage()
  return { rss: Math.round(m.rss / 2 ** 20), heapUsed: Math.round(m.heapUsed / 2 ** 20) }
}

function fail (reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } })
}

export function buildNodeHttpApi (deps: NodeHttpDeps): FastifyInstance {
  const door: NodeHttpDoor = { ...NODE_HTTP_DEFAULTS, ...Object.fromEntries(Object.entries(deps.door ?? {}).filter(([, v]) => v !== undefined)) }
  const app = Fastify({
    logger: false,
    ...serverTimeouts(door),
    bodyLimit: BODY_LIMIT,
    // Refusals fastify makes before routing (a bad URL, a path parameter too long), in the API's format.
    frameworkErrors: (err, _req, reply) => { refuse(reply, err) },
    clientErrorHandler: (err, socket) => { refuseOnSocket(err, socket) }
  })
  app.server.maxConnections = door.maxConnections
  const { driver, store, genesis } = deps
  void app.register(rateLimit, { global: false, cache: 10_000 })
  /** Made on the first request: the rate-limit plugin is loaded by then. */
  let limiters: { requests: RateLimiter, blocks: RateLimiter } | undefined
  let blocksInFlight = 0
  const exempt = addressMatcher(door.exempt)
  // The door: the address's request rate, and for a whole block also its block rate and a free
  // place among those being answered, held until the answer is sent or the connection closes.
  app.addHook('onRequest', async (req, reply) => {
    const wholeBlock = req.routeOptions.url === '/blocks/:height'
    if (!exempt(req.ip)) {
      limiters ??= {
        requests: app.createRateLimit({ max: door.rate.max, timeWindow: door.rate.windowMs }),
        blocks: app.createRateLimit({ max: door.blockRate.max, timeWindow: door.blockRate.windowMs, keyGenerator: r => `block:${r.ip}` })
      }
      for (const limiter of wholeBlock ? [limiters.requests, limiters.blocks] : [limiters.requests]) {
        const rate = await limiter(req)
        if (!rate.isAllowed && rate.isExceeded) return retryLater(reply, 429, 'RATE_LIMITED', rate.ttlInSeconds, wholeBlock ? 'too many requests (whole blocks count twice) from this address' : 'too many requests from this address')
      }
    }
    if (!wholeBlock) return
    if (blocksInFlight >= MAX_BLOCKS_IN_FLIGHT) return retryLater(reply, 503, 'BUSY', 1, 'too many whole blocks being answered: retry shortly')
    blocksInFlight++
    reply.raw.once('close', () => { blocksInFlight-- })
  })
  deps.metrics?.expose(app)

  app.get('/status', async () => {
    const { tip, round, step, leader, mempool } = driver.status()
    const connected = new Set(deps.connectedPeers())
    return {
      chainId: genesis.chainId,
      validator: deps.index,
      peerId: deps.peerId,
      height: tip.height,
      lastBlockHash: toHex(tip.hash),
      /** The last block's time (the genesis time at height 0), ms since the epoch. */
      lastBlockTime: tip.time,
      round,
      step,
      leader,
      /** Entries waiting for a block. */
      mempool,
      evidenceNotKept: driver.evidenceNotKept,
      peers: [...connected],
      memory: memoryMiB(),
      // connected: this validator itself, or a peer it holds a connection to now.
      validators: genesis.validators.map((v, i) => {
        const peerId = deps.validatorPeerIds[i]
        return { index: i, name: v.name, publicKey: toHex(v.publicKey), peerId, connected: i === deps.index || (peerId !== undefined && connected.has(peerId)) }
      }),
      services: genesis.services.map((s, i) => ({ index: i, name: s.name, publicKey: toHex(s.publicKey) }))
    }
  })

  // The network's genesis in its JSON form: the trust root the explorer checks certificates against.
  const genesisJson = toJson(genesis)
  app.get('/genesis', async () => genesisJson)

  // The latest blocks, newest first, in summary: header fields, counts, and which validators' precommits seal each.
  app.get<{ Querystring: Record<string, unknown> }>('/blocks', async (req, reply) => {
    const query = LatestQuerySchema.safeParse(req.query)
    if (!query.success) return fail(reply, 400, 'INVALID_FIELD', `latest must be a count from 1 to ${MAX_LATEST_BLOCKS}`)
    const height = driver.status().tip.height
    const heights = Array.from({ length: Math.min(query.data.latest ?? 10, height) }, (_, i) => height - i)
    const stored = await Promise.all(heights.map(async h => await store.block(h)))
    const blocks = stored.filter(s => s !== undefined).map(({ block, commit }) => ({
      height: block.header.height,
      hash: toHex(commit.blockHash),
      time: block.header.time,
      proposer: block.header.proposer,
      entryCount: block.header.entryCount,
      submissions: block.submissions.length,
      round: commit.round,
      signers: commit.signatures.map(s => s.validator).sort((a, b) => a - b)
    }))
    return { height, blocks }
  })

  app.get<{ Params: { height: string } }>('/blocks/:height', async (req, reply) => {
    const height = Number(req.params.height)
    if (!Number.isSafeInteger(height) || height < 1) return fail(reply, 400, 'INVALID_FIELD', 'height must be a positive integer')
    const stored = await store.block(height)
    if (stored === undefined) return fail(reply, 404, 'NOT_FOUND', `no block at height ${height}`)
    return toJson(stored)
  })

  // Where an entry sits: its block, its leaf's index there, and the service that submitted it.
  app.get<{ Params: { entry: string } }>('/entries/:entry', async (req, reply) => {
    if (!HASH_HEX.test(req.params.entry)) return fail(reply, 400, 'INVALID_FIELD', 'an entry must be 64 lowercase hex characters')
    const at = await store.location(fromHex(req.params.entry))
    const stored = at === undefined ? undefined : await store.block(at.height)
    const leaf = at === undefined || stored === undefined ? undefined : leafAt(stored.block, at.index)
    if (at === undefined || stored === undefined || leaf === undefined) return fail(reply, 404, 'NOT_FOUND', 'no such entry on this chain')
    return { entry: req.params.entry, height: at.height, index: at.index, service: leaf.service, blockHash: toHex(stored.commit.blockHash) }
  })

  // Evidence from a height on, by height, round and validator.
  app.get<{ Querystring: Record<string, unknown> }>('/evidence', async (req, reply) => {
    const query = EvidenceQuerySchema.safeParse(req.query)
    if (!query.success) return fail(reply, 400, 'INVALID_FIELD', `fromHeight must be a height, limit from 1 to ${MAX_EVIDENCE_PAGE}`)
    const limit = query.data.limit ?? MAX_EVIDENCE_PAGE
    const evidence = await store.evidence(query.data.fromHeight ?? 0, limit)
    return { evidence: evidence.map(e => toJson(e)) }
  })

  const links = deps.links
  if (links !== undefined) {
    // Cut this node's links to the listed validators (both directions); an empty list heals all.
    app.post<{ Body: { blockedValidators?: unknown } }>('/admin/links', async (req, reply) => {
      const list = req.body?.blockedValidators
      if (!Array.isArray(list) || !list.every(i => Number.isInteger(i) && deps.validatorPeerIds[i as number] !== undefined)) {
        return fail(reply, 400, 'INVALID_FIELD', 'blockedValidators must be a list of validator indices')
      }
      await links.setBlocked(list.map(i => deps.validatorPeerIds[i as number] as string))
      return { blocked: list }
    })
  }

  // The explorer: the page at / and /explorer, its script and style beside it.
  const assets = new Map<string, Buffer>()
  const serveExplorer = async (file: string, reply: FastifyReply): Promise<FastifyReply> => {
    const type = EXPLORER_FILES.get(file)
    if (type === undefined) return fail(reply, 404, 'NOT_FOUND', 'no such explorer file')
    let body = assets.get(file)
    if (body === undefined) {
      const dir = explorerDir()
      if (dir === undefined) return fail(reply, 503, 'EXPLORER_NOT_BUILT', 'the explorer page is not built: run npm run build')
      body = await readFile(new URL(file, dir))
      assets.set(file, body)
    }
    return reply.type(type).header('content-security-policy', EXPLORER_CSP).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(body)
  }
  app.get('/', async (_req, reply) => await serveExplorer('index.html', reply))
  app.get('/explorer', async (_req, reply) => await serveExplorer('index.html', reply))
  app.get<{ Params: { file: string } }>('/explorer/:file', async (req, reply) => await serveExplorer(req.params.file, reply))

  app.setNotFoundHandler((_req, reply) => fail(reply, 404, 'NOT_FOUND', 'no such endpoint'))
  app.setErrorHandler((err: { statusCode?: number, message: string }, _req, reply) => refuse(reply, err))
  return app
}

type RateLimiter = ReturnType<FastifyInstance['createRateLimit']>

/** A fastify or handler error in the API's format: a 4xx as such, anything else a 500 that says nothing. */
function refuse (reply: FastifyReply, err: { statusCode?: number, message: string }): FastifyReply {
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
  if (status === 500) return fail(reply, 500, 'INTERNAL', 'internal error')
  return fail(reply, status, status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 414 ? 'URI_TOO_LONG' : 'BAD_REQUEST', err.message)
}

/** A refusal whose Retry-After says when to come back. */
function retryLater (reply: FastifyReply, status: number, code: string, seconds: number, message: string): FastifyReply {
  void reply.header('retry-after', String(Math.max(1, seconds)))
  return fail(reply, status, code, message)
}

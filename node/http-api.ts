/**
 * The node's read-only HTTP API for operators and explorers: status (height, round, leader,
 * entries waiting, peers, validator set, registered services), a block by height (its
 * submissions' entries in hex), where an entry sits, evidence of validators that signed
 * conflicting messages, Prometheus metrics (GET /metrics, when given). A validator holds entries
 * only, never a record, so none is shown. Errors are JSON `{ error: { code, message } }`.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'
import { z } from 'zod'
import { fromHex, toHex } from '../consensus/ids.js'
import { toJson } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'
import type { ConsensusDriver } from './driver.js'
import type { NodeMetrics } from './metrics.js'
import type { LinkControl } from '../net/host.js'
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
}

const HASH_HEX = /^[0-9a-f]{64}$/
const MAX_EVIDENCE_PAGE = 100
const decimal = (max: number) => z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number).pipe(z.number().int().min(0).max(max))
const EvidenceQuerySchema = z.strictObject({
  fromHeight: decimal(Number.MAX_SAFE_INTEGER).optional(),
  limit: decimal(MAX_EVIDENCE_PAGE).pipe(z.number().min(1)).optional()
})

function memoryMiB (): { rss: number, heapUsed: number } {
  const m = process.memoryUsage()
  return { rss: Math.round(m.rss / 2 ** 20), heapUsed: Math.round(m.heapUsed / 2 ** 20) }
}

function fail (reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } })
}

export function buildNodeHttpApi (deps: NodeHttpDeps): FastifyInstance {
  const app = Fastify({ logger: false })
  const { driver, store, genesis } = deps
  deps.metrics?.expose(app)

  app.get('/status', async () => {
    const { tip, round, step, leader, mempool } = driver.status()
    return {
      chainId: genesis.chainId,
      validator: deps.index,
      peerId: deps.peerId,
      height: tip.height,
      lastBlockHash: toHex(tip.hash),
      round,
      step,
      leader,
      /** Entries waiting for a block. */
      mempool,
      evidenceNotKept: driver.evidenceNotKept,
      peers: deps.connectedPeers(),
      memory: memoryMiB(),
      validators: genesis.validators.map((v, i) => ({ index: i, name: v.name, publicKey: toHex(v.publicKey), peerId: deps.validatorPeerIds[i] })),
      services: genesis.services.map((s, i) => ({ index: i, name: s.name, publicKey: toHex(s.publicKey) }))
    }
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

  app.setNotFoundHandler((_req, reply) => fail(reply, 404, 'NOT_FOUND', 'no such endpoint'))
  app.setErrorHandler((err: { statusCode?: number, message: string }, _req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
    return fail(reply, status, status === 500 ? 'INTERNAL' : 'BAD_REQUEST', status === 500 ? 'internal error' : err.message)
  })
  return app
}

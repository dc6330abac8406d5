/**
 * A client's own items: `GET /v1/items` lists them newest first (by the time each was stored,
 * then id), a page at a time with an opaque cursor; `GET /v1/items?dataHash=<hex>` finds those
 * anchoring one SHA-256 (by id), so a lost id can be found again from the file itself. Both read
 * the store's per-client indexes: a client never sees another's items, and nothing here holds a
 * certificate (fetch one by id). An item is `pending`, `certified` (with its place on chain) or
 * `failed` (with the validators' refusal as `error`: it will never be certified).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { fromHex, toHex } from '../consensus/ids.js'
import { uint64BE } from '../lib/bytes.js'
import { badRequest } from './http-errors.js'
import { ItemPageSchema, type RouteDoc } from './openapi.js'
import { MAX_LIST_LIMIT, type ItemCursor, type ItemSummary, type ServiceStore } from './store.js'

export interface ItemRoutesInit {
  store: Pick<ServiceStore, 'listItems' | 'itemsByDataHash'>
  /** The authenticated client of a request. */
  client: (req: FastifyRequest) => string
}

const DEFAULT_LIMIT = 100
const HEX32 = /^[0-9a-f]{64}$/
/** A listing cursor: createdAt (u64 BE) then id, as 80 hex characters. */
const TIME_CURSOR = /^[0-9a-f]{80}$/

const ItemsQuerySchema = z.strictObject({
  limit: z.string().regex(/^[1-9][0-9]{0,5}$/).transform(Number).pipe(z.number().max(MAX_LIST_LIMIT)).optional()
    .meta({ description: `Items per page, 1 to ${MAX_LIST_LIMIT}; ${DEFAULT_LIMIT} when absent` }),
  after: z.string().max(80).optional().meta({ description: 'The `next` of the previous page' }),
  dataHash: z.string().max(64).optional().meta({ description: 'Only the items anchoring this SHA-256 (64 lowercase hex characters)', pattern: HEX32.source })
})

const ITEMS_DOC: RouteDoc = {
  operationId: 'listItems',
  tag: 'items',
  summary: 'The client\'s own items, newest first; or those anchoring one SHA-256',
  description: `A page of at most \`limit\` (default ${DEFAULT_LIMIT}, at most ${MAX_LIST_LIMIT}) items; pass the answer's \`next\` as \`after\` for the next page. With \`dataHash\`, the items anchoring that hash, by id.`,
  querystring: ItemsQuerySchema,
  answers: { 200: { description: 'A page of items (no certificates: fetch one by id)', schema: ItemPageSchema } },
  refusals: [400]
}

export function registerItemRoutes (app: FastifyInstance, init: ItemRoutesInit): void {
  app.get('/v1/items', { config: { openapi: ITEMS_DOC } }, async req => {
    const parsed = ItemsQuerySchema.safeParse(req.query)
    if (!parsed.success) throw badRequest('INVALID_FIELD', `query: limit must be 1 to ${MAX_LIST_LIMIT}; only limit, after and dataHash are known`)
    const { limit = DEFAULT_LIMIT, after, dataHash } = parsed.data
    const client = init.client(req)
    if (dataHash !== undefined) {
      if (!HEX32.test(dataHash)) throw badRequest('INVALID_HEX', 'dataHash must be 64 lowercase hex characters (SHA-256)')
      if (after !== undefined && !HEX32.test(after)) throw badRequest('INVALID_FIELD', 'after must be the `next` of the previous page')
      const page = await init.store.itemsByDataHash(client, fromHex(dataHash), limit, after === undefined ? undefined : fromHex(after))
      return { items: page.items.map(itemJson), next: page.next === null ? null : toHex(page.next) }
    }
    if (after !== undefined && !TIME_CURSOR.test(after)) throw badRequest('INVALID_FIELD', 'after must be the `next` of the previous page')
    const page = await init.store.listItems(client, limit, after === undefined ? undefined : readCursor(after))
    return { items: page.items.map(itemJson), next: page.next === null ? null : writeCursor(page.next) }
  })
}

function itemJson (item: ItemSummary): Record<string, unknown> {
  const { name, size, contentType } = item.record.meta
  return {
    id: toHex(item.id),
    status: item.status,
    dataHash: toHex(item.record.dataHash),
    name,
    size,
    contentType,
    createdAt: item.createdAt,
    hasData: item.hasData,
    height: item.placement?.height,
    index: item.placement?.index,
    error: item.failure === null ? undefined : { code: item.failure.code, message: item.failure.message }
  }
}

function writeCursor (cursor: ItemCursor): string {
  return toHex(uint64BE(cursor.createdAt)) + toHex(cursor.id)
}

function readCursor (text: string): ItemCursor {
  const createdAt = Number.parseInt(text.slice(0, 16), 16)
  if (!Number.isSafeInteger(createdAt)) throw badRequest('INVALID_FIELD', 'after must be the `next` of the previous page')
  return { createdAt, id: fromHex(text.slice(16)) }
}

/**
 * The service's API as an OpenAPI 3.1 document, served by @fastify/swagger at `/docs/json` (and
 * `/docs/yaml`), with a browsable page at `/docs` (@fastify/swagger-ui, its assets served from the
 * package). Each route carries its documentation as `config.openapi` (a RouteDoc), built from
 * the zod schemas its handler checks input with; answers and refusals are zod schemas here,
 * byte fields of core values (certificates, attestations) shown in their JSON form, lowercase
 * hex. The door adds to every route what it does: the bearer key (unless the route is public),
 * 429 with Retry-After, and the one error format of every refusal.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify'
import { z } from 'zod'
import { CertificateSchema, GenesisSchema } from '../consensus/types.js'
import { AttestationSchema } from '../protocol/node-api.js'
import type { HttpErrorCode } from './http-errors.js'
import type { ItemStatus } from './store.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No API key: the door limits the caller's address only. */
    public?: boolean
    /** The route's documentation (never used to check requests: the handler does). */
    openapi?: RouteDoc
  }
}

export const DOCS_PREFIX = '/docs'
const SECURITY_SCHEME = 'apiKey'

/** What a route documents: its input schemas (the ones its handler parses with), its answers and its own refusals. */
export interface RouteDoc {
  operationId: string
  summary: string
  description?: string
  tag: Tag
  params?: z.ZodType
  querystring?: z.ZodType
  /** A JSON body read with this schema, or `bytes`: any content, stored exactly as sent. */
  body?: z.ZodType | 'bytes'
  /** Answers by status: a JSON schema, or the media type of an answer that is not JSON. */
  answers: Record<number, { description: string, schema: z.ZodType } | { description: string, mediaType: string }>
  /** Refusals of this route's own, beyond the door's (401, 429 and any other refusal). */
  refusals?: readonly RefusalStatus[]
}

const TAGS = {
  data: 'Store data and read it back, with its certificate and a check that it is intact',
  hashes: 'Anchor hashes of data kept elsewhere',
  items: 'A client\'s own items: listed, or found by data hash',
  certificates: 'Check a certificate against the network\'s genesis',
  operations: 'Health, counters and metrics'
} as const
type Tag = keyof typeof TAGS

// Exhaustive records: a new error code or item status does not compile until documented here.
const ERROR_CODES: Record<HttpErrorCode, true> = {
  BAD_REQUEST: true,
  MALFORMED_JSON: true,
  INVALID_HEX: true,
  INVALID_ID: true,
  INVALID_FIELD: true,
  UNAUTHORIZED: true,
  NOT_FOUND: true,
  URI_TOO_LONG: true,
  UNSUPPORTED_MEDIA_TYPE: true,
  REQUEST_TIMEOUT: true,
  HEADERS_TOO_LARGE: true,
  RATE_LIMITED: true,
  NOT_CERTIFIED: true,
  NO_DATA: true,
  PAYLOAD_TOO_LARGE: true,
  NODES_UNAVAILABLE: true,
  QUORUM_UNAVAILABLE: true,
  STOPPED: true,
  INTERNAL: true
}
const ITEM_STATUSES: Record<ItemStatus, string> = {
  pending: 'stored, waiting for its certificate',
  certified: 'anchored: its certificate can be fetched',
  failed: 'refused for good by the validators (their code and message in `error`): it will never be certified'
}
const enumOf = <K extends string>(keys: Record<K, unknown>): z.ZodEnum<Record<K, K>> => z.enum(Object.keys(keys) as [K, ...K[]])

const REFUSALS = {
  400: 'Input refused: MALFORMED_JSON, INVALID_HEX, INVALID_ID, INVALID_FIELD (the message names the field), BAD_REQUEST',
  401: 'Missing or invalid API key (UNAUTHORIZED); the answer carries WWW-Authenticate: Bearer',
  404: 'NOT_FOUND: no such item for this client (another client\'s item is as unknown as a missing one)',
  409: 'NO_DATA (a hash anchored without data) or NOT_CERTIFIED (not anchored yet)',
  413: 'PAYLOAD_TOO_LARGE: the body is larger than the limit (uploads: limits.maxBodyBytes; JSON: 1 MiB)',
  414: 'URI_TOO_LONG: a path parameter is longer than 128 characters',
  429: 'RATE_LIMITED: too many requests of this client (or address, before authentication), too many waiting, or too many failed authentications from this address; come back after Retry-After seconds',
  503: 'NODES_UNAVAILABLE or QUORUM_UNAVAILABLE (too few validators answer), or STOPPED (the service is stopping)'
} as const
type RefusalStatus = keyof typeof REFUSALS

const hex = (chars: number, what: string): z.ZodString => z.string().regex(new RegExp(`^[0-9a-f]{${chars}}$`)).describe(what)
const ItemId = hex(64, 'The item\'s id: its ledger entry (the salted commitment the validators hold), 64 lowercase hex characters')
const DataHash = hex(64, 'SHA-256 of the data, 64 lowercase hex characters')

/** Path parameters of the item routes (the handler's parseId checks the same pattern). */
export const ItemParamsSchema = z.strictObject({ id: ItemId })

// The named schemas of the document (components.schemas); answers refer to them.
const components = z.registry<{ id: string }>()
const named = <S extends z.ZodType>(id: string, schema: S): S => {
  components.add(schema, { id })
  return schema
}

export const ErrorSchema = named('Error', z.strictObject({
  error: z.strictObject({
    code: enumOf(ERROR_CODES).describe('Stable code: what programs match on'),
    message: z.string().describe('For people; may change')
  })
}).describe('Every refusal, whoever makes it (a route, the door, fastify or Node\'s HTTP parser), has this form'))

export const CertificateJsonSchema = named('Certificate', CertificateSchema.describe('Everything needed to check offline that the record was anchored; byte fields in lowercase hex (docs/certificate.md)'))
const Attestation = named('Attestation', AttestationSchema.describe('A validator\'s signed answer: is this entry the one anchored at (height, index)? Byte fields in lowercase hex'))

export const PendingSchema = named('Pending', z.strictObject({
  id: ItemId,
  hash: DataHash.optional(),
  status: z.literal('pending')
}).describe('Stored and queued, not certified yet: fetch the certificate later'))

export const StoredSchema = named('Stored', z.strictObject({
  id: ItemId,
  hash: DataHash,
  size: z.number().int().nonnegative(),
  certificate: CertificateJsonSchema
}))

export const FailedSchema = named('Failed', z.strictObject({
  id: ItemId,
  status: z.literal('failed'),
  error: z.strictObject({
    code: z.string().describe('The validators\' refusal code (e.g. BAD_SIGNATURE, UNKNOWN_SERVICE, WRONG_SERVICE)'),
    message: z.string()
  })
}).describe('Refused for good by a quorum-safe share of the validators: never retried, never certified'))

export const AnchoredSchema = named('Anchored', z.strictObject({ id: ItemId, certificate: CertificateJsonSchema }))

export const BatchAnswerSchema = named('BatchAnswer', z.strictObject({
  items: z.array(z.union([AnchoredSchema, PendingSchema, FailedSchema])).describe('One per hash, in the order sent')
}))

const ItemSummary = named('ItemSummary', z.strictObject({
  id: ItemId,
  status: enumOf(ITEM_STATUSES).describe(Object.entries(ITEM_STATUSES).map(([k, v]) => `${k}: ${v}`).join('; ')),
  dataHash: DataHash,
  name: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  contentType: z.string().optional(),
  createdAt: z.number().int().nonnegative().describe('When it was stored, ms since the epoch'),
  hasData: z.boolean().describe('Whether the service keeps the data (false: a hash anchored alone)'),
  height: z.number().int().positive().optional().describe('Block holding its entry, once certified'),
  index: z.number().int().nonnegative().optional().describe('Its leaf in that block, once certified'),
  error: FailedSchema.shape.error.optional().describe('Why the validators refused it, when failed')
}))

export const ItemPageSchema = named('ItemPage', z.strictObject({
  items: z.array(ItemSummary),
  next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page')
}))

export const DataVerdictSchema = named('DataVerdict', z.strictObject({
  id: ItemId,
  intact: z.boolean().describe('True only when a quorum of validators attest that the data read back now rebuilds the anchored entry'),
  anchoredHash: DataHash,
  currentHash: DataHash.nullable().describe('SHA-256 of the data read back; null when the data is gone'),
  attestations: z.array(Attestation)
}))

export const CertificateVerdictSchema = named('CertificateVerdict', z.union([
  z.strictObject({
    valid: z.literal(true),
    service: z.string().describe('The registered service that anchored the record'),
    entry: hex(64, 'The record\'s entry'),
    height: z.number().int().positive(),
    time: z.number().int().nonnegative().describe('Block time, ms since the epoch'),
    signers: z.array(z.number().int().nonnegative()).describe('Indexes in the genesis of the validators whose precommits seal the block')
  }),
  z.strictObject({
    valid: z.literal(false),
    reason: z.string().describe('The stable code of the refusal (e.g. WRONG_CHAIN, INVALID_PROOF, INVALID_FIELD)'),
    message: z.string()
  })
]))

export const StatusSchema = named('Status', z.strictObject({
  certified: z.number().int().nonnegative().describe('Items certified since start'),
  inFlight: z.number().int().nonnegative().describe('Items sent to the validators, not yet certified'),
  queued: z.number().int().nonnegative().describe('Items waiting for a round of the outbox'),
  stored: z.number().int().nonnegative().describe('Items stored since start')
}))

export const GenesisAnswerSchema = named('GenesisAnswer', z.strictObject({
  fingerprint: hex(64, 'Hex of the genesis hash, which every block header carries: pin it to refuse any other genesis'),
  genesis: GenesisSchema.describe('The network\'s genesis (docs/certificate.md section 7), byte fields in lowercase hex')
}))

export const HealthSchema = named('Health', z.strictObject({ status: z.literal('ok'), explorer: z.string().optional().meta({ description: 'URL of a validator\'s explorer page, when the operator set `http.explorerUrl`' }) }))

/** JSON form of core values: a byte field (a z.custom of a fixed length) is lowercase hex of that length. */
function bytesAsHex (ctx: { zodSchema: z.core.$ZodType, jsonSchema: z.core.JSONSchema.BaseSchema }): void {
  if (ctx.zodSchema._zod.def.type !== 'custom') return
  // The byte schemas know their length only as a refinement: ask them.
  const lengths = [16, 32, 64].filter(n => (ctx.zodSchema as z.ZodType).safeParse(new Uint8Array(n)).success)
  Object.assign(ctx.jsonSchema, { type: 'string', pattern: lengths.length === 1 ? `^[0-9a-f]{${2 * (lengths[0] as number)}}$` : '^(?:[0-9a-f]{2})*$' })
}

const COMPONENTS_PATH = '#/components/schemas/'
const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', unrepresentable: 'any', override: bytesAsHex } as const

/** The named schemas, referring to each other by `#/components/schemas/<id>`. */
function componentSchemas (): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(components, { ...JSON_SCHEMA_OPTIONS, io: 'output', uri: id => `${COMPONENTS_PATH}${id}` })
  // Their place in the document names them: no $schema or $id of their own.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]))
}

/**
 * A reference when the schema is named, inline otherwise. Inputs are shown as sent (`input`:
 * before the handler's transforms, such as a query's text turned into a number).
 */
function jsonSchema (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const id = components.get(schema)?.id
  if (id !== undefined) return { $ref: `${COMPONENTS_PATH}${id}` }
  const { $schema: _, ...json } = z.toJSONSchema(schema, { ...JSON_SCHEMA_OPTIONS, io })
  return json
}

const errorContent = { 'application/json': { schema: { $ref: `${COMPONENTS_PATH}Error` } } }
const retryAfter = { 'retry-after': { type: 'integer', minimum: 1, description: 'Seconds to wait before trying again' } }

/** The route's schema for @fastify/swagger: its RouteDoc plus what the door adds (key, 429, the error format). */
export function routeSchema (doc: RouteDoc, isPublic: boolean): FastifySchema {
  const response: Record<string, unknown> = {}
  for (const [status, answer] of Object.entries(doc.answers)) {
    response[status] = 'schema' in answer
      ? { description: answer.description, content: { 'application/json': { schema: jsonSchema(answer.schema, 'output') } } }
      : { description: answer.description, content: { [answer.mediaType]: { schema: {} } } }
  }
  const refusals: RefusalStatus[] = [...(doc.refusals ?? []), ...(isPublic ? [] : [401 as const]), 429]
  for (const status of [...new Set(refusals)].sort()) {
    response[status] = { description: REFUSALS[status], content: errorContent, ...(status === 429 ? { headers: retryAfter } : {}) }
  }
  response.default = { description: 'Any other refusal, in the same format: 408 REQUEST_TIMEOUT, 431 HEADERS_TOO_LARGE, 500 INTERNAL...', content: errorContent }
  const body = doc.body === 'bytes'
    ? { content: { '*/*': { schema: { type: 'string', format: 'binary', description: 'The data, stored exactly as sent; its content type is recorded and served back' } } } }
    : doc.body !== undefined ? { content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } } : undefined
  return {
    operationId: doc.operationId,
    summary: doc.summary,
    ...(doc.description !== undefined ? { description: doc.description } : {}),
    tags: [doc.tag],
    ...(isPublic ? { security: [] } : {}),
    ...(doc.params !== undefined ? { params: jsonSchema(doc.params, 'input') } : {}),
    ...(doc.querystring !== undefined ? { querystring: jsonSchema(doc.querystring, 'input') } : {}),
    ...(body !== undefined ? { body } : {}),
    response
  }
}

/**
 * Registers the document and its page. Await it before any route is added: the document lists
 * the routes added after it. Routes are documented by their `config.openapi` only, which fastify
 * never compiles (no validator, no serializer): requests are still checked by the handlers, with
 * the API's own error codes, and answers are serialized as before.
 */
export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'trustnet service',
        // The API's version, as in its paths (/v1): not the package's.
        version: '1',
        description: 'Store data or anchor its hash in the trustnet ledger and get certificates anyone can check offline against the network\'s genesis. Every request except the public ones carries an API key: `Authorization: Bearer <key>`. Byte fields are lowercase hex.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
      },
      tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
      components: {
        securitySchemes: { [SECURITY_SCHEME]: { type: 'http', scheme: 'bearer', description: 'An API key configured on the service (stored there as its SHA-256)' } },
        schemas: componentSchemas() as Record<string, never>
      },
      security: [{ [SECURITY_SCHEME]: [] }]
    },
    transform: ({ schema, url, route }) => ({ schema: documented(route) ?? schema, url })
  })
}

function documented (route: RouteOptions): FastifySchema | undefined {
  const doc = route.config?.openapi
  return doc === undefined ? undefined : routeSchema(doc, route.config?.public === true)
}

/**
 * The page at /docs, public (no key; still under the per-address rate limit). Its assets come
 * from the package, and its content security policy allows nothing from another origin.
 */
export async function registerDocsPage (app: FastifyInstance): Promise<void> {
  await app.register(async docs => {
    docs.addHook('onRoute', route => { route.config = { ...route.config, public: true } })
    await docs.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      // The page would otherwise fetch a badge from validator.swagger.io.
      uiConfig: { validatorUrl: null, deepLinking: true },
      theme: { title: 'trustnet service API' },
      staticCSP: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    })
  })
}

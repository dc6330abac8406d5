/**
 * The service's OpenAPI document and its page: the document is OpenAPI 3.1 in structure and
 * documents every route fastify serves (a route added without documentation fails here), with
 * the bearer key, the door's 429 and the one error format; real answers of the real service
 * (fake validators) match their documented schemas; documenting a route changed none of its
 * refusals; and the page at /docs loads without a key, every asset from the service itself,
 * under the door's per-address rate limit.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildHttpApi, type HttpApiInit } from '../../service/http-api.js'
import { makeNetwork } from '../helpers/fixtures.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { ALICE, configuredKey, startHarness, type ApiAnswer, type Harness } from '../helpers/service-harness.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document is read as plain JSON
type Doc = any

/** The service's HTTP API over stand-ins for its store, outbox and nodes: enough to list routes and serve the docs. */
async function docsOnlyApi (limits: HttpApiInit['limits'] = {}): Promise<FastifyInstance> {
  const app = await buildHttpApi({
    serviceId: 'service-test',
    apiKeys: [configuredKey(ALICE)],
    maxBodyBytes: 1024,
    certificateWaitMs: 0,
    genesis: makeNetwork(4).genesis,
    store: {} as HttpApiInit['store'],
    outbox: { stats: () => ({ certified: 0, inFlight: 0, queued: 0 }) } as unknown as HttpApiInit['outbox'],
    nodes: {} as HttpApiInit['nodes'],
    now: Date.now,
    limits
  })
  await app.ready()
  return app
}

/** fastify's own list of routes ("GET /v1/data/:id"), read from printRoutes' tree; HEAD twins left out. */
function registeredRoutes (app: FastifyInstance): string[] {
  const routes: string[] = []
  const path: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line)
    if (node === null) continue
    const depth = (node[1] as string).length / 4
    path.length = depth
    path.push(node[2] as string)
    for (const method of node[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${path.join('')}`)
  }
  return routes
}

/** "/v1/data/:id" as OpenAPI writes it: "/v1/data/{id}". */
const openapiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}')

/** A documented schema as a zod validator: its references point into the document's components. */
function validatorOf (doc: Doc, schema: unknown): z.ZodType {
  const local = (value: unknown): Record<string, z.core.JSONSchema.JSONSchema> => JSON.parse(JSON.stringify(value).replaceAll('#/components/schemas/', '#/$defs/'))
  return z.fromJSONSchema({ ...local(schema), $defs: local(doc.components.schemas) })
}

/** Checks a real answer against the schema documented for its route and status. */
function expectDocumented (doc: Doc, method: string, path: string, res: ApiAnswer): void {
  const response = doc.paths[path]?.[method]?.responses?.[String(res.status)] ?? doc.paths[path]?.[method]?.responses?.default
  expect(response, `${method} ${path} ${res.status} is documented`).toBeDefined()
  const parsed = validatorOf(doc, response.content['application/json'].schema).safeParse(res.json)
  expect(parsed.error?.issues ?? [], `${method} ${path} ${res.status}`).toEqual([])
}

describe('the OpenAPI document and its page', () => {
  let app: FastifyInstance
  let doc: Doc

  beforeAll(async () => {
    app = await docsOnlyApi()
    const res = await app.inject({ method: 'GET', url: '/docs/json' })
    expect(res.statusCode).toBe(200)
    doc = res.json()
  })
  afterAll(async () => { await app?.close() })

  it('is OpenAPI 3.1 and documents every route the service serves, and only those', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(typeof doc.info.title).toBe('string')
    expect(typeof doc.info.version).toBe('string')
    const routes = registeredRoutes(app).filter(r => !r.includes(' /docs'))
    // The service's routes, so that a parse of printRoutes that found nothing cannot pass.
    expect(routes).toEqual(expect.arrayContaining(['GET /v1/items', 'POST /v1/hashes/batch', 'POST /v1/certificates/verify', 'POST /v1/data/:id/verify', 'GET /metrics', 'GET /v1/health']))
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string]
      const operation = doc.paths[openapiPath(path)]?.[method.toLowerCase()]
      expect(operation?.summary, `${route} has documentation`).toEqual(expect.any(String))
      expect(operation.operationId).toEqual(expect.any(String))
      const answers = Object.keys(operation.responses).filter(s => /^2\d\d$/.test(s))
      expect(answers.length, `${route} documents its answers`).toBeGreaterThan(0)
      for (const status of answers) expect(Object.keys(operation.responses[status].content ?? {}), `${route} ${status}`).not.toEqual([])
      expect(operation.responses.default.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' })
    }
    const documented = Object.entries(doc.paths as Record<string, object>).flatMap(([path, item]) => Object.keys(item).map(m => `${m.toUpperCase()} ${path}`))
    expect(documented.sort()).toEqual(routes.map(r => openapiPath(r)).sort())
    const ids = documented.map(r => { const [m, p] = r.split(' ') as [string, string]; return doc.paths[p][m.toLowerCase()].operationId as string })
    expect(new Set(ids).size).toBe(ids.length)
    // Every reference resolves.
    for (const ref of JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)) {
      expect(doc.components.schemas[(ref[1] as string).replace('#/components/schemas/', '')], ref[1]).toBeDefined()
    }
  })

  it('describes the bearer key, the public routes, the door\'s refusals and the inputs', () => {
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.security).toEqual([{ apiKey: [] }])
    for (const [path, method] of [['/v1/health', 'get'], ['/metrics', 'get']] as const) {
      expect(doc.paths[path][method].security, path).toEqual([])
      expect(doc.paths[path][method].responses['401'], path).toBeUndefined()
    }
    const anchor = doc.paths['/v1/hashes'].post
    expect(anchor.security).toBeUndefined()
    expect(Object.keys(anchor.responses)).toEqual(expect.arrayContaining(['201', '202', '400', '401', '413', '429', 'default']))
    expect(anchor.responses['429'].headers['retry-after'].schema.type).toBe('integer')
    expect(anchor.requestBody.content['application/json'].schema.required).toEqual(['hash'])
    expect(anchor.parameters).toEqual([expect.objectContaining({ in: 'query', name: 'wait', required: false })])
    const certificate = doc.paths['/v1/data/{id}/certificate'].get
    expect(Object.keys(certificate.responses)).toEqual(expect.arrayContaining(['200', '202', '404', '414']))
    expect(certificate.parameters).toEqual([expect.objectContaining({ in: 'path', name: 'id', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } })])
    expect(Object.keys(doc.paths['/v1/data'].post.requestBody.content)).toEqual(['*/*'])
    expect(doc.paths['/v1/items'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['after', 'dataHash', 'limit'])
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(expect.arrayContaining(['UNAUTHORIZED', 'RATE_LIMITED', 'URI_TOO_LONG', 'PAYLOAD_TOO_LARGE']))
    // Byte fields of certificates are documented in their JSON form.
    expect(doc.components.schemas.Certificate.properties.salt).toEqual({ type: 'string', pattern: '^[0-9a-f]{64}$' })
  })

  it('serves the page at /docs without a key, every asset from this server', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/)
    expect(page.headers['content-security-policy']).not.toMatch(/https?:/)
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map(m => m[1] as string)
    expect(assets).toEqual(expect.arrayContaining(['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css', '/docs/static/swagger-initializer.js']))
    for (const asset of assets) {
      expect(asset, 'served from this origin').toMatch(/^\/docs\//)
      const res = await app.inject({ method: 'GET', url: asset })
      expect([asset, res.statusCode]).toEqual([asset, 200])
    }
    const initializer = (await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })).body
    expect(initializer).toContain('"validatorUrl":null')
    expect((await app.inject({ method: 'GET', url: '/docs/yaml' })).body).toMatch(/^openapi: 3\.1\./m)
  })

  it('keeps /docs under the per-address rate limit', async () => {
    const limited = await docsOnlyApi({ rate: { max: 3, windowMs: 60_000 } })
    try {
      const codes: number[] = []
      for (let i = 0; i < 4; i++) codes.push((await limited.inject({ method: 'GET', url: '/docs/json' })).statusCode)
      expect(codes).toEqual([200, 200, 200, 429])
      const refused = await limited.inject({ method: 'GET', url: '/docs' })
      expect(refused.json().error.code).toBe('RATE_LIMITED')
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    } finally {
      await limited.close()
    }
  })
})

describe('real answers and their documented schemas', () => {
  let net: FakeNetwork
  let h: Harness
  let doc: Doc

  beforeAll(async () => {
    net = await startFakeNetwork()
    h = await startHarness(net)
    const res = await h.request('GET', '/docs/json', { key: null })
    expect(res.status).toBe(200)
    doc = res.json
  })
  afterAll(async () => {
    await h?.close()
    await net?.stop()
  })

  it('match: stored, anchored, listed, certified, verified, and refused', async () => {
    const stored = await h.request('POST', '/v1/data?name=report.pdf', { body: 'some bytes', contentType: 'application/pdf' })
    expect(stored.status).toBe(201)
    expectDocumented(doc, 'post', '/v1/data', stored)
    const id = stored.json.id as string
    const batch = await h.request('POST', '/v1/hashes/batch', { body: JSON.stringify({ hashes: [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')] }), contentType: 'application/json' })
    expect(batch.status).toBe(201)
    expectDocumented(doc, 'post', '/v1/hashes/batch', batch)
    const pending = await h.request('POST', '/v1/hashes?wait=false', { body: JSON.stringify({ hash: randomBytes(32).toString('hex'), metadata: { name: 'x' } }) })
    expect(pending.status).toBe(202)
    expectDocumented(doc, 'post', '/v1/hashes', pending)
    const certificate = await h.request('GET', `/v1/data/${id}/certificate`)
    expectDocumented(doc, 'get', '/v1/data/{id}/certificate', certificate)
    expectDocumented(doc, 'get', '/v1/items', await h.request('GET', '/v1/items?limit=2'))
    expectDocumented(doc, 'post', '/v1/data/{id}/verify', await h.request('POST', `/v1/data/${id}/verify`))
    const verdict = await h.request('POST', '/v1/certificates/verify', { body: JSON.stringify(certificate.json) })
    expect(verdict.json.valid).toBe(true)
    expectDocumented(doc, 'post', '/v1/certificates/verify', verdict)
    expectDocumented(doc, 'post', '/v1/certificates/verify', await h.request('POST', '/v1/certificates/verify', { body: '{}' }))
    expectDocumented(doc, 'get', '/v1/status', await h.request('GET', '/v1/status'))
    expectDocumented(doc, 'get', '/v1/health', await h.request('GET', '/v1/health', { key: null }))
    // Refusals, in the documented error format.
    for (const [res, status] of [
      [await h.request('GET', '/v1/items', { key: null }), 401],
      [await h.request('GET', `/v1/data/${'0'.repeat(64)}/certificate`), 404],
      [await h.request('GET', `/v1/data/${'a'.repeat(200)}`), 414]
    ] as const) {
      expect(res.status).toBe(status)
      expectDocumented(doc, 'get', res.status === 401 ? '/v1/items' : res.status === 404 ? '/v1/data/{id}/certificate' : '/v1/data/{id}', res)
    }
    // The check is not vacuous: an answer missing a field, or with one too many, does not match.
    const storedSchema = validatorOf(doc, doc.paths['/v1/data'].post.responses['201'].content['application/json'].schema)
    const { certificate: _, ...withoutCertificate } = stored.json as Record<string, unknown>
    expect(storedSchema.safeParse(withoutCertificate).success).toBe(false)
    expect(storedSchema.safeParse({ ...stored.json, extra: 1 }).success).toBe(false)
    expect(storedSchema.safeParse({ ...stored.json, certificate: { ...certificate.json, salt: 'not hex' } }).success).toBe(false)
  })

  it('left every refusal as it was: the handlers check input, with the API\'s codes', async () => {
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['GET', '/v1/items?limit=abc', undefined, 400, 'INVALID_FIELD'],
      ['GET', '/v1/items?nope=1', undefined, 400, 'INVALID_FIELD'],
      ['POST', '/v1/hashes', '{"hash":"00"}', 400, 'INVALID_HEX'],
      ['POST', '/v1/hashes', '{"hash":"00","more":1}', 400, 'INVALID_FIELD'],
      ['POST', '/v1/hashes/batch', '{"hashes":[]}', 400, 'INVALID_FIELD'],
      ['POST', '/v1/hashes', 'not json', 400, 'MALFORMED_JSON'],
      ['GET', '/v1/data/XYZ', undefined, 400, 'INVALID_ID'],
      ['POST', '/v1/certificates/verify', '[1]', 200, '']
    ]
    for (const [method, path, body, status, code] of cases) {
      const res = await h.request(method, path, body === undefined ? {} : { body, contentType: 'application/json' })
      expect([method, path, res.status, res.json?.error?.code ?? '']).toEqual([method, path, status, code])
    }
  })
})

/**
 * The service's door from outside, with real HTTP against the real service (fake validators):
 * every refusal, fastify's and Node's own included, has the API's error format; request rates are
 * limited per client (per IP before authentication) with 429 and Retry-After; wrong-key guesses
 * from one address meet a back-off; headers, bodies and idle connections are timed out; the
 * connection count is capped; CORS answers only configured origins; TLS is served from
 * certificate files; JSON with duplicate keys or lone surrogates and names with bidirectional
 * controls are refused; and one client's batches do not starve another client's requests.
 */
import '../../lib/promise-shim.js'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrustnetError } from '../../consensus/errors.js'
import { fromJsonText } from '../../consensus/json.js'
import { CertificateSchema } from '../../consensus/types.js'
import { startFakeNetwork, type FakeNetwork } from '../helpers/fake-nodes.js'
import { ALICE, BOB, startHarness, waitFor, type ApiAnswer, type Harness, type HarnessOptions } from '../helpers/service-harness.js'

const hex32 = (): string => randomBytes(32).toString('hex')

/** A raw TCP connection to the service: what it sends, everything it answers, when it closes. */
function rawConnection (url: string): { socket: Socket, received: () => string, closed: Promise<number> } {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  let text = ''
  const started = Date.now()
  socket.on('data', chunk => { text += chunk.toString('utf8') })
  socket.on('error', () => {})
  const closed = new Promise<number>(resolve => socket.once('close', () => { resolve(Date.now() - started) }))
  return { socket, received: () => text, closed }
}

/** The error body of a raw HTTP answer. */
function rawError (answer: string): { status: number, code: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
  const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }
  return { status, code: body.error.code }
}

const p99 = (ms: number[]): number => [...ms].sort((a, b) => a - b)[Math.ceil(ms.length * 0.99) - 1] as number

describe('the service door', () => {
  let net: FakeNetwork
  const harnesses: Harness[] = []
  const harness = async (options: HarnessOptions = {}): Promise<Harness> => {
    const h = await startHarness(net, options)
    harnesses.push(h)
    return h
  }

  beforeAll(async () => { net = await startFakeNetwork() })
  afterAll(async () => {
    for (const h of harnesses) await h.close()
    await net?.stop()
  })

  it('answers every refusal, fastify\'s and Node\'s own, in one error format', async () => {
    const h = await harness({ config: { limits: { maxBodyBytes: 1024 } } })
    const cases: Array<[string, string, Parameters<Harness['request']>[2], number, string]> = [
      ['GET', `/v1/data/${'a'.repeat(10_000)}`, {}, 414, 'URI_TOO_LONG'],
      ['POST', '/v1/data', { body: new Uint8Array(2048) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['GET', '/v1/nowhere', {}, 404, 'NOT_FOUND'],
      ['POST', '/v1/hashes', { body: '{"hash": ', contentType: 'application/json' }, 400, 'MALFORMED_JSON'],
      ['GET', '/v1/data/%zz', {}, 400, 'BAD_REQUEST']
    ]
    for (const [method, path, init, status, code] of cases) {
      const res = await h.request(method, path, init)
      expect([path.slice(0, 40), res.status, res.json?.error?.code]).toEqual([path.slice(0, 40), status, code])
      expect(typeof res.json.error.message).toBe('string')
    }
    // Bytes that are not HTTP never reach fastify: Node's parser refuses them, in our format too.
    const raw = rawConnection(h.url)
    raw.socket.write('NOT HTTP AT ALL\r\n\r\n')
    await raw.closed
    expect(rawError(raw.received())).toEqual({ status: 400, code: 'BAD_REQUEST' })
  })

  it('refuses JSON with duplicate keys or lone surrogates, and names with bidirectional controls or invisible characters', async () => {
    const h = await harness()
    const post = async (body: string): Promise<{ status: number, code: string | undefined }> => {
      const res = await h.request('POST', '/v1/hashes?wait=false', { body, contentType: 'application/json' })
      return { status: res.status, code: res.json?.error?.code }
    }
    const hash = hex32()
    expect(await post(`{"hash":"${hash}","hash":"${hex32()}"}`)).toEqual({ status: 400, code: 'MALFORMED_JSON' })
    expect(await post(`{"hash":"${hash}","h\\u0061sh":"${hex32()}"}`)).toEqual({ status: 400, code: 'MALFORMED_JSON' })
    expect(await post(`{"hash":"${hash}",}`)).toEqual({ status: 400, code: 'MALFORMED_JSON' })
    expect(await post(`{"hash":"${hash}","metadata":{"name":"a\\ud800b"}}`)).toEqual({ status: 400, code: 'MALFORMED_JSON' })
    expect(await post(`{"hash":"${hash}","metadata":{"name":"invoice\\u202efdp.exe"}}`)).toEqual({ status: 400, code: 'INVALID_FIELD' })
    expect(await post(`{"hash":"${hash}","metadata":{"name":"pay\\u200bpal"}}`)).toEqual({ status: 400, code: 'INVALID_FIELD' })
    expect(await post(`{"hash":"${hash}","metadata":{"contentType":"text/plain\\ufeff"}}`)).toEqual({ status: 400, code: 'INVALID_FIELD' })
    // Surrogates encoded as bytes (CESU-8) are not UTF-8.
    const cesu = Uint8Array.from([...Buffer.from(`{"hash":"${hash}","metadata":{"name":"`), 0xed, 0xa0, 0x80, ...Buffer.from('"}}')])
    expect((await h.request('POST', '/v1/hashes?wait=false', { body: cesu, contentType: 'application/json' })).json.error.code).toBe('MALFORMED_JSON')
    // The same body without the trap is taken: the refusals above are about the trap alone.
    expect((await post(`{"hash":"${hash}","metadata":{"name":"invoice.pdf é 😀"}}`)).status).toBe(202)

    // A certificate whose JSON names a field twice is not judged: a reader keeping the first value would see another certificate.
    const stored = await h.request('POST', '/v1/hashes', { body: JSON.stringify({ hash: hex32() }), contentType: 'application/json' })
    expect(stored.status).toBe(201)
    const text = JSON.stringify(stored.json.certificate)
    const twice = text.replace('"salt":', `"salt":"${'00'.repeat(32)}","salt":`)
    const verdict = await h.request('POST', '/v1/certificates/verify', { body: twice, contentType: 'application/json' })
    expect([verdict.status, verdict.json.error.code]).toEqual([400, 'MALFORMED_JSON'])
    expect((await h.request('POST', '/v1/certificates/verify', { body: text, contentType: 'application/json' })).json.valid).toBe(true)
    const code = (f: () => unknown): string | undefined => { try { f(); return undefined } catch (err) { return err instanceof TrustnetError ? err.code : 'other' } }
    expect(code(() => fromJsonText(CertificateSchema, text))).toBeUndefined()
    expect(code(() => fromJsonText(CertificateSchema, twice))).toBe('MALFORMED')
    expect(code(() => fromJsonText(CertificateSchema, text.replace('"chainId":"', '"chainId":"\\udc00')))).toBe('MALFORMED')
  })

  it('limits each client\'s request rate, and unauthenticated requests per address, with 429 and Retry-After', async () => {
    const h = await harness({ config: { limits: { rate: { max: 5, windowMs: 60_000 } } } })
    const statuses = async (n: number, key: string): Promise<number[]> =>
      await Promise.all(Array.from({ length: n }, async () => (await h.request('GET', '/v1/status', { key })).status))
    expect((await statuses(5, ALICE.key)).every(s => s === 200)).toBe(true)
    const over = await h.request('GET', '/v1/status', { key: ALICE.key })
    expect([over.status, over.json.error.code]).toEqual([429, 'RATE_LIMITED'])
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another client has its own budget.
    expect(await statuses(5, BOB.key)).toEqual([200, 200, 200, 200, 200])
    // Public routes count per address.
    const health = await Promise.all(Array.from({ length: 6 }, async () => (await h.request('GET', '/v1/health', { key: null })).status))
    expect(health.filter(s => s === 429)).toHaveLength(1)
  })

  it('refuses a client\'s burst past its bound of records waiting for certificates with 429, and still serves another client', async () => {
    const h = await harness({ config: { limits: { pendingPerClient: 2_500 } } })
    const batch = (): string => JSON.stringify({ hashes: Array.from({ length: 1000 }, hex32) })
    net.ledger.pause()
    try {
      const burst = await Promise.all(Array.from({ length: 5 }, async () => await h.request('POST', '/v1/hashes/batch?wait=false', { key: ALICE.key, body: batch(), contentType: 'application/json' })))
      expect(burst.map(a => a.status).sort()).toEqual([202, 202, 429, 429, 429])
      const refused = burst.find(a => a.status === 429) as ApiAnswer
      expect(refused.json.error.code).toBe('RATE_LIMITED')
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
      // Nothing of a refused batch was stored: the client's items are the two accepted batches.
      const listed = await h.request('GET', '/v1/items?limit=1000', { key: ALICE.key })
      const rest = await h.request('GET', `/v1/items?limit=1000&after=${listed.json.next as string}`, { key: ALICE.key })
      expect([listed.json.items.length, rest.json.items.length, rest.json.next]).toEqual([1000, 1000, null])
      // A single record still fits under the bound; another client has a bound of its own.
      expect((await h.request('POST', '/v1/hashes?wait=false', { key: ALICE.key, body: JSON.stringify({ hash: hex32() }), contentType: 'application/json' })).status).toBe(202)
      const bob = await h.request('POST', '/v1/hashes?wait=false', { key: BOB.key, body: JSON.stringify({ hash: hex32() }), contentType: 'application/json' })
      expect(bob.status).toBe(202)
      net.ledger.resume()
      await waitFor('Bob\'s certificate', async () => (await h.request('GET', `/v1/data/${bob.json.id as string}/certificate`, { key: BOB.key })).status === 200)
      // Once Alice's records are certified, her bound has room again.
      await waitFor('Alice\'s records certified', async () => (await h.request('POST', '/v1/hashes/batch?wait=false', { key: ALICE.key, body: batch(), contentType: 'application/json' })).status === 202)
    } finally {
      net.ledger.resume()
    }
  })

  it('backs off an address after repeated wrong keys, even for a right one', async () => {
    const h = await harness({ config: { limits: { authFailures: { max: 3, windowMs: 60_000 } } } })
    for (let i = 0; i < 3; i++) expect((await h.request('GET', '/v1/status', { key: `guess-${i}-0123456789abcdef` })).status).toBe(401)
    const blocked = await h.request('GET', '/v1/status', { key: ALICE.key })
    expect([blocked.status, blocked.json.error.code]).toEqual([429, 'RATE_LIMITED'])
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('cuts a trickling upload and idle keep-alive connections, and caps the number of connections', async () => {
    const h = await harness({ config: { http: { host: '127.0.0.1', port: 0, headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, maxConnections: 4 } } })
    // One byte every 100 ms of a 1,000-byte upload: cut at the request timeout, with a 408.
    const slow = rawConnection(h.url)
    slow.socket.write(`POST /v1/data HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${ALICE.key}\r\ncontent-length: 1000\r\n\r\n`)
    const drip = setInterval(() => { if (!slow.socket.destroyed) slow.socket.write('x') }, 100)
    const cutAfter = await slow.closed
    clearInterval(drip)
    expect(rawError(slow.received())).toEqual({ status: 408, code: 'REQUEST_TIMEOUT' })
    expect(cutAfter).toBeLessThan(5_000)

    // Headers that never end are cut too.
    const stalled = rawConnection(h.url)
    stalled.socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n')
    expect(await stalled.closed).toBeLessThan(5_000)

    // A keep-alive connection left idle after its answer is closed by the server.
    const idle = rawConnection(h.url)
    idle.socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n')
    expect(await idle.closed).toBeLessThan(5_000)
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200/)

    // With 4 connections open, a fifth is closed without an answer; the first four still work.
    const held = Array.from({ length: 4 }, () => rawConnection(h.url))
    await Promise.all(held.map(async c => { await new Promise(resolve => c.socket.once('connect', resolve)) }))
    const fifth = rawConnection(h.url)
    fifth.socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n')
    await fifth.closed
    expect(fifth.received()).toBe('')
    held[0]?.socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')
    await held[0]?.closed
    expect(held[0]?.received()).toMatch(/^HTTP\/1\.1 200/)
    for (const c of held) c.socket.destroy()
  })

  it('answers CORS for configured origins only', async () => {
    const origin = 'https://explorer.example'
    const h = await harness({ config: { http: { host: '127.0.0.1', port: 0, corsOrigins: [origin] } } })
    const preflight = async (from: string): Promise<Response> => await fetch(`${h.url}/v1/hashes`, {
      method: 'OPTIONS',
      headers: { origin: from, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
    })
    const allowed = await preflight(origin)
    expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([204, origin])
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/)
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull()
    const get = await h.request('GET', '/v1/status', { headers: { origin } })
    expect(get.headers.get('access-control-allow-origin')).toBe(origin)
    // Without configured origins, no CORS header at all.
    const plain = await harness()
    expect((await plain.request('GET', '/v1/status', { headers: { origin } })).headers.get('access-control-allow-origin')).toBeNull()
  })

  it('serves HTTPS from certificate files', async () => {
    const probe = await harness()
    const certFile = join(probe.dir, 'cert.pem')
    const keyFile = join(probe.dir, 'key.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' })
    const h = await harness({ config: { http: { host: '127.0.0.1', port: 0, tls: { certFile, keyFile } } } })
    expect(h.url).toMatch(/^https:\/\//)
    const ca = await readFile(certFile)
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = httpsRequest(`${h.url}/v1/status`, { ca, headers: { authorization: `Bearer ${ALICE.key}` } }, res => {
        let body = ''
        res.on('data', c => { body += String(c) })
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
      })
      req.on('error', reject)
      req.end()
    })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toHaveProperty('certified')
    // Plain HTTP on the TLS port gets nothing usable.
    await expect(fetch(h.url.replace('https:', 'http:') + '/v1/health')).rejects.toThrow()
  })

  // A measurement rather than a check: how long it takes depends on the machine's load (minutes
  // on a busy 2-core machine), so it runs only when asked, e.g. DOOR_BATCH=1000 for the issue's
  // 60 batches of 1,000. The gate's ordering itself is checked in test/unit/client-gate.test.ts,
  // the outbox's turns between clients in test/integration/service-outbox.test.ts.
  it.runIf(process.env.DOOR_BATCH !== undefined)('keeps a client\'s latency low while another sends 60 batches at once', async () => {
    const batchSize = Number(process.env.DOOR_BATCH)
    const run = async (pendingPerClient: number): Promise<{ p99: number, refused: number }> => {
      // Both clients wait for their certificates however long it takes: the wait is what is measured.
      const h = await harness({ config: { limits: { pendingPerClient, inFlightPerClient: 1000 }, certificateWaitMs: 300_000 } })
      let refused = 0
      /** POST until accepted: a 429 is waited out for its Retry-After, as a well-behaved client does. */
      const post = async (key: string, path: string, body: unknown): Promise<void> => {
        for (;;) {
          const res = await fetch(`${h.url}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(300_000)
          })
          await res.arrayBuffer()
          if (res.status !== 429) { expect(res.status).toBe(201); return }
          refused++
          await new Promise(resolve => setTimeout(resolve, 1000 * Number(res.headers.get('retry-after'))))
        }
      }
      let loadDone = false
      const load = Promise.all(Array.from({ length: 60 }, async () => {
        await post(ALICE.key, '/v1/hashes/batch', { hashes: Array.from({ length: batchSize }, hex32) })
      })).finally(() => { loadDone = true })
      const latencies: number[] = []
      // Bob's single requests, one after another, for as long as Alice's load lasts (at least 10).
      while (!loadDone || latencies.length < 10) {
        const started = performance.now()
        await post(BOB.key, '/v1/hashes', { hash: hex32() })
        latencies.push(performance.now() - started)
      }
      await load
      await h.close()
      return { p99: p99(latencies), refused }
    }
    const unbounded = await run(100_000_000)
    const bounded = await run(2 * batchSize)
    process.stdout.write(`door fairness: a client's p99 while another sends 60 batches of ${batchSize}: ${unbounded.p99.toFixed(0)} ms with no bound on its pending records, ${bounded.p99.toFixed(0)} ms with ${2 * batchSize} (its batches refused ${bounded.refused} times)\n`)
    expect(bounded.refused).toBeGreaterThan(0)
    // Absolute figures depend on the machine's load (on a shared 2-core machine a lone request's p99 was about 1 s): the bound must at least halve the wait.
    expect(bounded.p99).toBeLessThan(unbounded.p99 / 2)
  }, 600_000)
})

/**
 * The service API calls the bench and its load clients make, each returning the HTTP status and
 * the fields the bench needs. Nothing here retries: a refused or failed request is the caller's
 * figure to count. Every request has a deadline, so a stuck service cannot hang a client forever.
 *
 * Requests go through undici's connection pools rather than node:http or global fetch: the load
 * clients share the machine's cores with the cluster they measure, and per request undici costs
 * a client about two thirds of node:http's CPU, and fetch three to four times node:http's.
 */
import { isAscii } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { Pool } from 'undici'
import type { Target } from './load-protocol.js'

const REQUEST_TIMEOUT_MS = 120_000
/** Idle connections are kept this long, so a paced phase finds the ones its connect phase opened. */
const IDLE_CONNECTION_MS = 10 * 60_000

/**
 * One connection per request in flight (HTTP/1.1 without pipelining), so no request queues in the
 * client behind another; idle connections are kept for the next request instead of reconnecting.
 */
const pools = new Map<string, Pool>()

function poolFor (serviceUrl: string): Pool {
  let pool = pools.get(serviceUrl)
  if (pool === undefined) {
    pool = new Pool(serviceUrl, {
      connections: null,
      pipelining: 1,
      keepAliveTimeout: IDLE_CONNECTION_MS,
      keepAliveMaxTimeout: IDLE_CONNECTION_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS
    })
    pools.set(serviceUrl, pool)
  }
  return pool
}

export interface Anchored { status: number, id?: string, certificate?: unknown, error?: string }
export interface BatchAnchored { status: number, items: Array<{ id: string, certificate?: unknown }>, error?: string }
export interface Verified { status: number, intact: boolean, error?: string }
/** GET /v1/status: counters since the service started. */
export interface ServiceStatus { certified: number, stored: number, inFlight: number, queued: number }

/**
 * Random bytes drawn ahead, 1,024 hashes at a time: a call for random bytes per hash cost a client
 * about 8 µs per hash here, as much CPU as the service spends storing the record.
 */
let drawn = Buffer.alloc(0)
let drawnAt = 0

export function randomHash (): string {
  if (drawnAt + 32 > drawn.length) { drawn = randomBytes(32 * 1024); drawnAt = 0 }
  drawnAt += 32
  return drawn.toString('hex', drawnAt - 32, drawnAt)
}

export function randomHashes (n: number): string[] {
  return Array.from({ length: n }, randomHash)
}

async function call (target: Target, method: 'GET' | 'POST', path: string, body?: string | Uint8Array, contentType?: string): Promise<{ status: number, json: Record<string, unknown> }> {
  const headers: Record<string, string> = { authorization: `Bearer ${target.apiKey}` }
  if (body !== undefined) headers['content-type'] = contentType ?? 'application/octet-stream'
  // headersTimeout and bodyTimeout are the deadline: a waiting request receives nothing until its answer.
  const res = await poolFor(target.serviceUrl).request({ method, path, headers, body })
  const text = asText(Buffer.from(await res.body.arrayBuffer()))
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(text) as Record<string, unknown> } catch { /* a non-JSON answer keeps its status */ }
  return { status: res.statusCode, json }
}

/**
 * UTF-8 bytes as text. ASCII (every answer of the bench's requests) is read as Latin-1, which is
 * the same text: decoding a 1,000-certificate answer (1.8 MB) as UTF-8 cost a client about 9 ms,
 * as Latin-1 about 1 ms.
 */
function asText (bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')
}

const errorOf = (status: number, json: Record<string, unknown>): string | undefined =>
  status >= 400 ? `${status} ${JSON.stringify(json.error ?? json).slice(0, 200)}` : undefined

/** POST /v1/hashes: 201 with a certificate, 202 pending (always 202 with `wait: false`, once stored). */
export async function anchorHash (target: Target, hash: string, options: { wait?: boolean } = {}): Promise<Anchored> {
  const path = options.wait === false ? '/v1/hashes?wait=false' : '/v1/hashes'
  const { status, json } = await call(target, 'POST', path, JSON.stringify({ hash }), 'application/json')
  return { status, id: json.id as string | undefined, certificate: json.certificate, error: errorOf(status, json) }
}

/** POST /v1/hashes/batch: items carry a certificate each, or are pending. */
export async function anchorBatch (target: Target, hashes: string[]): Promise<BatchAnchored> {
  const { status, json } = await call(target, 'POST', '/v1/hashes/batch', JSON.stringify({ hashes }), 'application/json')
  const items = Array.isArray(json.items) ? json.items as BatchAnchored['items'] : []
  return { status, items, error: errorOf(status, json) }
}

/** POST /v1/data: the service keeps the bytes and anchors their hash. */
export async function storeDocument (target: Target, bytes: Uint8Array, name: string): Promise<Anchored> {
  const { status, json } = await call(target, 'POST', `/v1/data?name=${encodeURIComponent(name)}`, bytes, 'application/octet-stream')
  return { status, id: json.id as string | undefined, certificate: json.certificate, error: errorOf(status, json) }
}

/** POST /v1/data/:id/verify: the service reads the bytes back and asks a quorum of validators. */
export async function verifyDocument (target: Target, id: string): Promise<Verified> {
  const { status, json } = await call(target, 'POST', `/v1/data/${id}/verify`, new Uint8Array(0), 'application/octet-stream')
  return { status, intact: json.intact === true, error: errorOf(status, json) }
}

/** GET /v1/health: what the connect phase sends to open a connection. */
export async function health (target: Target): Promise<{ status: number, error?: string }> {
  const { status, json } = await call(target, 'GET', '/v1/health')
  return { status, error: errorOf(status, json) }
}

/** GET /v1/status: items stored and certified since the service started. */
export async function serviceStatus (target: Target): Promise<ServiceStatus> {
  const { status, json } = await call(target, 'GET', '/v1/status')
  const { certified, stored, inFlight, queued } = json
  if (status !== 200 || typeof certified !== 'number' || typeof stored !== 'number') {
    throw new Error(`GET /v1/status answered ${status} ${JSON.stringify(json).slice(0, 200)}`)
  }
  const count = (v: unknown): number => typeof v === 'number' ? v : 0
  return { certified, stored, inFlight: count(inFlight), queued: count(queued) }
}

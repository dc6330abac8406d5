/**
 * The service API calls the load clients make, each returning the HTTP status and the fields the
 * bench needs. Nothing here retries: a refused or failed request is the caller's figure to count.
 * Every request has a deadline, so a stuck service cannot hang a client forever.
 */
import { randomBytes } from 'node:crypto'
import type { Target } from './load-protocol.js'

const REQUEST_TIMEOUT_MS = 120_000

export interface Anchored { status: number, id?: string, certificate?: unknown, error?: string }
export interface BatchAnchored { status: number, items: Array<{ id: string, certificate?: unknown }>, error?: string }
export interface Verified { status: number, intact: boolean, error?: string }

export const randomHash = (): string => randomBytes(32).toString('hex')

async function call (target: Target, path: string, body: string | Uint8Array, contentType: string): Promise<{ status: number, json: Record<string, unknown> }> {
  const res = await fetch(`${target.serviceUrl}${path}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${target.apiKey}`, 'content-type': contentType },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try { json = JSON.parse(text) as Record<string, unknown> } catch { /* a non-JSON answer keeps its status */ }
  return { status: res.status, json }
}

const errorOf = (status: number, json: Record<string, unknown>): string | undefined =>
  status >= 400 ? `${status} ${JSON.stringify(json.error ?? json).slice(0, 200)}` : undefined

/** POST /v1/hashes: 201 with a certificate, 202 pending. */
export async function anchorHash (target: Target, hash: string): Promise<Anchored> {
  const { status, json } = await call(target, '/v1/hashes', JSON.stringify({ hash }), 'application/json')
  return { status, id: json.id as string | undefined, certificate: json.certificate, error: errorOf(status, json) }
}

/** POST /v1/hashes/batch: items carry a certificate each, or are pending. */
export async function anchorBatch (target: Target, hashes: string[]): Promise<BatchAnchored> {
  const { status, json } = await call(target, '/v1/hashes/batch', JSON.stringify({ hashes }), 'application/json')
  const items = Array.isArray(json.items) ? json.items as BatchAnchored['items'] : []
  return { status, items, error: errorOf(status, json) }
}

/** POST /v1/data: the service keeps the bytes and anchors their hash. */
export async function storeDocument (target: Target, bytes: Uint8Array, name: string): Promise<Anchored> {
  const { status, json } = await call(target, `/v1/data?name=${encodeURIComponent(name)}`, bytes, 'application/octet-stream')
  return { status, id: json.id as string | undefined, certificate: json.certificate, error: errorOf(status, json) }
}

/** POST /v1/data/:id/verify: the service reads the bytes back and asks a quorum of validators. */
export async function verifyDocument (target: Target, id: string): Promise<Verified> {
  const { status, json } = await call(target, `/v1/data/${id}/verify`, new Uint8Array(0), 'application/octet-stream')
  return { status, intact: json.intact === true, error: errorOf(status, json) }
}

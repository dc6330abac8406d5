/**
 * Typed client for the service's HTTP API. It uses nothing but the global fetch (no node:
 * modules), so it runs in Node and in browsers alike. Every non-2xx answer, and every failure to
 * reach the service, is thrown as an ApiError carrying the HTTP status and the API's stable code.
 * Certificates and attestations come back in their JSON form (byte fields as lowercase hex); to
 * check one offline, read it with consensus/json.ts and call verifyCertificate.
 */
import type { Attestation } from '../protocol/node-api.js'
import type { Certificate } from '../consensus/types.js'

/** A core value in its JSON form: byte strings become lowercase hex. */
export type Hexed<T> =
  T extends Uint8Array ? string
    : T extends Array<infer U> ? Array<Hexed<U>>
      : T extends object ? { [K in keyof T]: Hexed<T[K]> }
        : T

export type CertificateJson = Hexed<Certificate>
export type AttestationJson = Hexed<Attestation>

export interface TrustnetClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080 */
  url: string
  apiKey: string
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

export interface StoreOptions {
  name?: string
  /** @default application/octet-stream */
  contentType?: string
  /** Wait for the certificate (up to the service's limit). @default true */
  wait?: boolean
}

export type StoreResult =
  | { status: 'certified', id: string, hash: string, size: number, certificate: CertificateJson }
  | { status: 'pending', id: string, hash: string }

export type AnchorResult =
  | { status: 'certified', id: string, certificate: CertificateJson }
  | { status: 'pending', id: string }

export type CertificateResult =
  | { status: 'certified', certificate: CertificateJson }
  | { status: 'pending', id: string }

export interface HashMetadata { name?: string, size?: number, contentType?: string }

export interface DataResult { bytes: Uint8Array, contentType: string }

/** The service re-hashed the stored data, rebuilt the item's entry and asked the validators about it. */
export interface VerifyResult {
  id: string
  /** True only when a quorum of validators attest that the rebuilt entry is the one anchored. */
  intact: boolean
  /** The SHA-256 the certificate's record holds. */
  anchoredHash: string
  /** The SHA-256 of the data as stored now; null when the data is gone. */
  currentHash: string | null
  /** The validators' signed answers (match, mismatch, not-found) about the rebuilt entry. */
  attestations: AttestationJson[]
}

/** A valid certificate names the registered service that anchored it, its entry and the block holding it. */
export type CertificateVerdict =
  | { valid: true, service: string, entry: string, height: number, time: number, signers: number[] }
  | { valid: false, reason: string, message?: string }

export class ApiError extends Error {
  override readonly name = 'ApiError'
  /** HTTP status; 0 when the service could not be reached or answered something unreadable. */
  readonly status: number
  /** The API's error code, e.g. NOT_FOUND; NETWORK_ERROR or BAD_RESPONSE for failures on the way. */
  readonly code: string

  constructor (status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.status = status
    this.code = code
  }
}

export class TrustnetClient {
  private readonly base: string
  private readonly apiKey: string
  private readonly fetch: typeof fetch

  constructor (options: TrustnetClientOptions) {
    this.base = options.url.replace(/\/+$/, '')
    this.apiKey = options.apiKey
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  }

  async storeData (bytes: Uint8Array, options: StoreOptions = {}): Promise<StoreResult> {
    const query = new URLSearchParams()
    if (options.name !== undefined) query.set('name', options.name)
    if (options.wait === false) query.set('wait', 'false')
    const qs = query.toString()
    const res = await this.call('POST', `/v1/data${qs === '' ? '' : `?${qs}`}`, bytes, options.contentType ?? 'application/octet-stream')
    const body = await json(res) as Omit<StoreResult, 'status'> & { status?: string }
    return res.status === 201
      ? { ...(body as { id: string, hash: string, size: number, certificate: CertificateJson }), status: 'certified' }
      : { id: body.id, hash: body.hash, status: 'pending' }
  }

  async getData (id: string): Promise<DataResult> {
    const res = await this.call('GET', `/v1/data/${encodeURIComponent(id)}`)
    return { bytes: new Uint8Array(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'application/octet-stream' }
  }

  async getCertificate (id: string): Promise<CertificateResult> {
    const res = await this.call('GET', `/v1/data/${encodeURIComponent(id)}/certificate`)
    const body = await json(res)
    return res.status === 202 ? { status: 'pending', id } : { status: 'certified', certificate: body as CertificateJson }
  }

  async verifyData (id: string): Promise<VerifyResult> {
    const res = await this.call('POST', `/v1/data/${encodeURIComponent(id)}/verify`)
    return await json(res) as VerifyResult
  }

  async anchorHash (hash: string, metadata?: HashMetadata, options: { wait?: boolean } = {}): Promise<AnchorResult> {
    const path = options.wait === false ? '/v1/hashes?wait=false' : '/v1/hashes'
    const res = await this.call('POST', path, JSON.stringify(metadata === undefined ? { hash } : { hash, metadata }), 'application/json')
    const body = await json(res) as { id: string, certificate?: CertificateJson }
    return res.status === 201 && body.certificate !== undefined
      ? { status: 'certified', id: body.id, certificate: body.certificate }
      : { status: 'pending', id: body.id }
  }

  /** Ask the service to check a certificate against its network's genesis. */
  async verifyCertificate (certificate: unknown): Promise<CertificateVerdict> {
    const res = await this.call('POST', '/v1/certificates/verify', JSON.stringify(certificate), 'application/json')
    return await json(res) as CertificateVerdict
  }

  async health (): Promise<{ status: string }> {
    return await json(await this.call('GET', '/v1/health')) as { status: string }
  }

  private async call (method: string, path: string, body?: Uint8Array | string, contentType?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}` }
    if (contentType !== undefined) headers['content-type'] = contentType
    let res: Response
    try {
      res = await this.fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) })
    } catch (err) {
      throw new ApiError(0, 'NETWORK_ERROR', `cannot reach ${this.base}: ${(err as Error).message}`, { cause: err })
    }
    if (res.ok) return res
    let code = `HTTP_${res.status}`
    let message = res.statusText
    try {
      const error = (await res.json() as { error?: { code?: unknown, message?: unknown } }).error
      if (typeof error?.code === 'string') code = error.code
      if (typeof error?.message === 'string') message = error.message
    } catch {
      // Not our error format (a proxy's page, say): the status is all there is.
    }
    throw new ApiError(res.status, code, message)
  }
}

async function json (res: Response): Promise<unknown> {
  try {
    return await res.json()
  } catch (err) {
    throw new ApiError(0, 'BAD_RESPONSE', `unreadable answer from ${res.url}`, { cause: err })
  }
}

/**
 * Typed client for the service's HTTP API. It uses nothing but the global fetch (no node:
 * modules), so it runs in Node and in browsers alike. Every call takes an AbortSignal; every
 * failure is a TrustnetClientError subclass with a stable code (errors.ts): a refusal by the
 * service is an ApiError carrying the HTTP status and the API's code. Certificates and
 * attestations come back in their JSON form (byte fields as lowercase hex), which
 * verifyCertificate (verify.ts) checks offline as they are. verifyData does not take the
 * service's word: it counts the validators' signed attestations itself against the genesis.
 * fetchGenesis takes the genesis from the service and, given the fingerprint the caller trusts
 * (`pin`), refuses any other: then the service is not trusted for the genesis either.
 */
import type { Attestation } from '../protocol/node-api.js'
import type { Certificate, Genesis } from '../consensus/types.js'
import { AbortedError, ApiError, BadResponseError, GenesisError, NetworkError } from './errors.js'
import { checkFingerprint, fingerprintOf, readGenesis, tallyAttestations, type AttestationTally, type GenesisInput, type PinOptions, type TallyOptions } from './verify.js'

export { ApiError } from './errors.js'

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
  /** The network's genesis (value, JSON form or JSON text): verifyData checks attestations against it. */
  genesis?: GenesisInput
  /**
   * The genesis fingerprint the caller trusts (64 hex characters): verifyData refuses a genesis
   * that does not hash to it, and without `genesis` fetches the service's and checks it.
   */
  pin?: string
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

/** Every call can be cancelled: the call then throws AbortedError. */
export interface CallOptions { signal?: AbortSignal }

export interface WaitOptions extends CallOptions {
  /** Wait for the certificate (up to the service's limit). @default true */
  wait?: boolean
}

export interface StoreOptions extends WaitOptions {
  name?: string
  /** Recorded in the record and served back with the data. @default application/octet-stream */
  contentType?: string
}

export type StoreResult =
  | { status: 'certified', id: string, hash: string, size: number, certificate: CertificateJson }
  | { status: 'pending', id: string, hash: string }

export type AnchorResult =
  | { status: 'certified', id: string, certificate: CertificateJson }
  | { status: 'pending', id: string }

/** Why the validators refused an item for good: their code and words. It will never be certified. */
export interface ItemFailure { code: string, message: string }

/** An item of a batch: as for one hash, or refused for good by the validators. */
export type BatchItem = AnchorResult | { status: 'failed', id: string, error: ItemFailure }

export interface BatchResult {
  /**
   * certified when every item is; pending while some are (fetch the rest later with
   * getCertificate); failed when none is pending and some were refused for good.
   * (A single store or anchor refused for good throws an ApiError with status 409 and the validators' code.)
   */
  status: 'certified' | 'pending' | 'failed'
  /** One per hash, in the order given. */
  items: BatchItem[]
}

export type CertificateResult =
  | { status: 'certified', certificate: CertificateJson }
  | { status: 'pending', id: string }

export interface HashMetadata { name?: string, size?: number, contentType?: string }

export interface DataResult { bytes: Uint8Array, contentType: string }

/** One of the caller's items as a listing shows it (fetch its certificate by id). */
export interface ItemInfo {
  id: string
  /** failed: refused for good by the validators (why in `error`); it will never be certified. */
  status: 'pending' | 'certified' | 'failed'
  error?: ItemFailure
  dataHash: string
  name?: string
  size?: number
  contentType?: string
  /** When the service stored it (ms since the epoch). */
  createdAt: number
  /** False for a hash anchored without its data. */
  hasData: boolean
  /** Where the item's entry sits, once certified. */
  height?: number
  index?: number
}

export interface ItemPage {
  items: ItemInfo[]
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null
}

export interface ListOptions extends CallOptions {
  /** 1 to 1000. @default 100 */
  limit?: number
  after?: string
}

/** The service re-hashed the stored data, rebuilt the item's entry and asked the validators; the client counted their answers itself. */
export interface VerifyResult {
  id: string
  /** The client's own verdict: a quorum of the genesis validators signed that the item's entry is the one anchored. */
  intact: boolean
  /** What the service said; believe `intact`. */
  serviceIntact: boolean
  /** The SHA-256 the certificate's record holds. */
  anchoredHash: string
  /** The SHA-256 of the data as stored now; null when the data is gone. */
  currentHash: string | null
  /** The validators' signed answers (match, mismatch, not-found) about the rebuilt entry. */
  attestations: AttestationJson[]
  /** How the client counted them. */
  tally: AttestationTally
}

/** The service's verdict on a certificate (POST /v1/certificates/verify). */
export type ServiceCertificateVerdict =
  | { valid: true, service: string, entry: string, height: number, time: number, signers: number[] }
  | { valid: false, reason: string, message?: string }

/** The service's genesis, checked: its fingerprint is computed here, not taken from the answer. */
export interface FetchedGenesis { genesis: Genesis, fingerprint: string }

export class TrustnetClient {
  private readonly base: string
  private readonly apiKey: string
  private readonly genesis: GenesisInput | undefined
  private readonly pin: string | undefined
  /** The service's genesis once fetched and found to match the pin. */
  private fetched: Genesis | undefined
  private readonly fetch: typeof fetch

  constructor (options: TrustnetClientOptions) {
    this.base = options.url.replace(/\/+$/, '')
    this.apiKey = options.apiKey
    this.genesis = options.genesis
    this.pin = options.pin
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  }

  /** Store `bytes` with the service (POST /v1/data): it keeps them and anchors their SHA-256. */
  async storeData (bytes: Uint8Array, options: StoreOptions = {}): Promise<StoreResult> {
    const query = new URLSearchParams()
    if (options.name !== undefined) query.set('name', options.name)
    if (options.wait === false) query.set('wait', 'false')
    const res = await this.call('POST', withQuery('/v1/data', query), options, bytes, options.contentType ?? 'application/octet-stream')
    const body = await json(res, options.signal) as { id: string, hash: string, size: number, certificate?: CertificateJson }
    return res.status === 201 && body.certificate !== undefined
      ? { status: 'certified', id: body.id, hash: body.hash, size: body.size, certificate: body.certificate }
      : { status: 'pending', id: body.id, hash: body.hash }
  }

  /** The bytes stored under `id`, with the content type recorded for them. */
  async getData (id: string, options: CallOptions = {}): Promise<DataResult> {
    const res = await this.call('GET', `/v1/data/${encodeURIComponent(id)}`, options)
    const bytes = await read(async () => new Uint8Array(await res.arrayBuffer()), options.signal)
    return { bytes, contentType: res.headers.get('content-type') ?? 'application/octet-stream' }
  }

  /** Anchor a SHA-256 (64 lowercase hex; hashData() makes it from bytes) without handing over the data. */
  async anchorHash (hash: string, metadata?: HashMetadata, options: WaitOptions = {}): Promise<AnchorResult> {
    const path = options.wait === false ? '/v1/hashes?wait=false' : '/v1/hashes'
    const res = await this.call('POST', path, options, JSON.stringify(metadata === undefined ? { hash } : { hash, metadata }), 'application/json')
    const body = await json(res, options.signal) as { id: string, certificate?: CertificateJson }
    return res.status === 201 && body.certificate !== undefined
      ? { status: 'certified', id: body.id, certificate: body.certificate }
      : { status: 'pending', id: body.id }
  }

  /** Anchor up to 1000 hashes in one request (POST /v1/hashes/batch); `metadata` applies to each. */
  async anchorBatch (hashes: readonly string[], metadata?: HashMetadata, options: WaitOptions = {}): Promise<BatchResult> {
    const path = options.wait === false ? '/v1/hashes/batch?wait=false' : '/v1/hashes/batch'
    const res = await this.call('POST', path, options, JSON.stringify(metadata === undefined ? { hashes } : { hashes, metadata }), 'application/json')
    const body = await json(res, options.signal) as { items?: Array<{ id: string, status?: string, certificate?: CertificateJson, error?: ItemFailure }> }
    if (!Array.isArray(body.items) || body.items.length !== hashes.length) throw new BadResponseError(`the service answered ${String(body.items?.length)} items for ${hashes.length} hashes`)
    const items = body.items.map((item): BatchItem => item.certificate !== undefined
      ? { status: 'certified', id: item.id, certificate: item.certificate }
      : item.status === 'failed' && item.error !== undefined
        ? { status: 'failed', id: item.id, error: { code: String(item.error.code), message: String(item.error.message) } }
        : { status: 'pending', id: item.id })
    const status = items.every(i => i.status === 'certified') ? 'certified' : items.some(i => i.status === 'pending') ? 'pending' : 'failed'
    return { status, items }
  }

  /** The item's certificate, or pending while the network has not anchored it yet. */
  async getCertificate (id: string, options: CallOptions = {}): Promise<CertificateResult> {
    const res = await this.call('GET', `/v1/data/${encodeURIComponent(id)}/certificate`, options)
    const body = await json(res, options.signal)
    return res.status === 202 ? { status: 'pending', id } : { status: 'certified', certificate: body as CertificateJson }
  }

  /** The caller's items, newest first, a page at a time (GET /v1/items). */
  async listItems (options: ListOptions = {}): Promise<ItemPage> {
    return await this.items(new URLSearchParams(), options)
  }

  /** The caller's items anchoring `dataHash` (64 lowercase hex; hashData() makes it from bytes), by id, a page at a time. */
  async findByDataHash (dataHash: string, options: ListOptions = {}): Promise<ItemPage> {
    return await this.items(new URLSearchParams({ dataHash }), options)
  }

  /**
   * The service's genesis (GET /v1/genesis, no key needed) and its fingerprint, computed here.
   * With `pin`, a genesis of another fingerprint is refused: GenesisError (GENESIS_PIN_MISMATCH,
   * INVALID_PIN). An answer that holds no valid genesis, or names a fingerprint that is not its
   * genesis's, is a BadResponseError.
   */
  async fetchGenesis (options: CallOptions & PinOptions = {}): Promise<FetchedGenesis> {
    const res = await this.call('GET', '/v1/genesis', options)
    const body = await json(res, options.signal) as { genesis?: unknown, fingerprint?: unknown }
    let genesis: Genesis
    try {
      genesis = readGenesis(body.genesis ?? {})
    } catch (err) {
      if (err instanceof GenesisError) throw new BadResponseError(`the service's genesis is not valid: ${err.message}`, err)
      throw err
    }
    const fingerprint = fingerprintOf(genesis)
    if (body.fingerprint !== fingerprint) throw new BadResponseError(`the service names fingerprint ${String(body.fingerprint)} for a genesis whose fingerprint is ${fingerprint}`)
    if (options.pin !== undefined) checkFingerprint(genesis, options.pin)
    return { genesis, fingerprint }
  }

  /**
   * Ask the service to re-read the item's data and have the validators compare it with what is
   * anchored; then count their signed answers against the genesis (`genesis`, the client's, or
   * with only a pin the service's, fetched and checked): `intact` is the client's own verdict.
   * With `place` (a certificate's height and leaf), only answers about that place count.
   * Throws GenesisError: GENESIS_REQUIRED with neither genesis nor pin, GENESIS_PIN_MISMATCH
   * when the genesis is not the pinned one.
   */
  async verifyData (id: string, options: CallOptions & TallyOptions & { genesis?: GenesisInput } = {}): Promise<VerifyResult> {
    const pin = options.pin ?? this.pin
    let genesis = options.genesis ?? this.genesis ?? this.fetched
    if (genesis === undefined) {
      if (pin === undefined) throw new GenesisError('GENESIS_REQUIRED', 'verifyData checks the validators\' signatures: give the client a genesis or the fingerprint to pin')
      genesis = this.fetched = (await this.fetchGenesis({ pin, ...(options.signal !== undefined ? { signal: options.signal } : {}) })).genesis
    }
    const res = await this.call('POST', `/v1/data/${encodeURIComponent(id)}/verify`, options)
    const body = await json(res, options.signal) as Omit<VerifyResult, 'serviceIntact' | 'tally'>
    if (!Array.isArray(body.attestations) || typeof body.intact !== 'boolean') throw new BadResponseError('the verify answer has no attestations')
    const tally = tallyAttestations(genesis, id, body.attestations, { pin, ...(options.place !== undefined ? { place: options.place } : {}) })
    return { ...body, intact: tally.intact, serviceIntact: body.intact, tally }
  }

  /** Ask the service to check a certificate against its genesis; verifyCertificate() does it here, trusting no one. */
  async verifyCertificate (certificate: unknown, options: CallOptions = {}): Promise<ServiceCertificateVerdict> {
    const res = await this.call('POST', '/v1/certificates/verify', options, JSON.stringify(certificate), 'application/json')
    return await json(res, options.signal) as ServiceCertificateVerdict
  }

  async health (options: CallOptions = {}): Promise<{ status: string }> {
    return await json(await this.call('GET', '/v1/health', options), options.signal) as { status: string }
  }

  private async items (query: URLSearchParams, options: ListOptions): Promise<ItemPage> {
    if (options.limit !== undefined) query.set('limit', String(options.limit))
    if (options.after !== undefined) query.set('after', options.after)
    const res = await this.call('GET', withQuery('/v1/items', query), options)
    const body = await json(res, options.signal) as ItemPage
    if (!Array.isArray(body.items)) throw new BadResponseError('the listing has no items')
    return { items: body.items, next: body.next ?? null }
  }

  private async call (method: string, path: string, options: CallOptions, body?: Uint8Array | string, contentType?: string): Promise<Response> {
    const { signal } = options
    if (signal?.aborted === true) throw new AbortedError(signal.reason)
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}` }
    if (contentType !== undefined) headers['content-type'] = contentType
    let res: Response
    try {
      res = await this.fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), ...(signal !== undefined ? { signal } : {}) })
    } catch (err) {
      if (isAborted(signal)) throw new AbortedError(signal?.reason)
      throw new NetworkError(`cannot reach ${this.base}: ${(err as Error).message}`, err)
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
      if (isAborted(signal)) throw new AbortedError(signal?.reason)
    }
    throw new ApiError(res.status, code, message)
  }
}

/** Read afresh after an await: the signal may have fired meanwhile. */
function isAborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}

function withQuery (path: string, query: URLSearchParams): string {
  const qs = query.toString()
  return qs === '' ? path : `${path}?${qs}`
}

/** Reading a body can fail on the way too: aborted, or cut off. */
async function read<T> (body: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  try {
    return await body()
  } catch (err) {
    if (signal?.aborted === true) throw new AbortedError(signal.reason)
    throw new BadResponseError(`unreadable answer: ${(err as Error).message}`, err)
  }
}

async function json (res: Response, signal: AbortSignal | undefined): Promise<unknown> {
  const value = await read(async () => await res.json() as unknown, signal)
  if (value === null || typeof value !== 'object') throw new BadResponseError(`unexpected answer from ${res.url}`)
  return value
}

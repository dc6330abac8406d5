/**
 * The load driven through the service: hashes at an even pace (entries per second), one per
 * POST /v1/hashes or many per POST /v1/hashes/batch, each request waiting for its certificates.
 * At most MAX_IN_FLIGHT requests wait at once: a send due beyond that is skipped and counted, so
 * a stalled network meets a bounded load instead of an ever growing one. An entry still pending
 * when the service answers (202) goes to one poller that fetches a few at a time. Every
 * certificate is checked offline against the genesis when it arrives; the driver keeps, per
 * entry, when it was sent and certified and the block that holds it, for the report and the
 * final checks.
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { CertificateVerifier } from '../../consensus/certificate.js'
import { certificateFromJson } from '../../consensus/json.js'
import type { Genesis } from '../../consensus/types.js'

export interface Entry {
  id: string
  sentAt: number
  certifiedAt?: number
  height?: number
  blockHash?: string
}

export interface LoadCounters {
  requests: number
  /** Sends skipped because MAX_IN_FLIGHT requests were waiting. */
  skipped: number
  failedRequests: number
  /** Certificates that did not verify offline. */
  invalid: number
}

const REQUEST_TIMEOUT_MS = 120_000
const MAX_IN_FLIGHT = 128
/** How often a pending entry is asked for again, and how many such requests run at once. */
const PENDING_POLL_MS = 1000
const POLLERS = 4
const TICK_MS = 20

interface CertificateJson { commit: { blockHash: string }, header: { height: number } }

export class LoadDriver {
  readonly entries = new Map<string, Entry>()
  readonly counters: LoadCounters = { requests: 0, skipped: 0, failedRequests: 0, invalid: 0 }
  /** Entries answered pending, in the order they are due to be asked for again. */
  private readonly pendingQueue: Array<{ entry: Entry, due: number }> = []
  private polling = false
  private readonly verifier: CertificateVerifier
  private readonly inFlight = new Set<Promise<void>>()
  private pacer: NodeJS.Timeout | undefined
  private stopped = false

  constructor (private readonly serviceUrl: string, private readonly apiKey: string, genesis: Genesis, private readonly now: () => number = () => performance.now()) {
    this.verifier = new CertificateVerifier(genesis)
  }

  /** Send `rate` entries per second, `batch` per request, from now on (0 stops sending). */
  setRate (rate: number, batch: number): void {
    if (this.pacer !== undefined) clearInterval(this.pacer)
    this.pacer = undefined
    if (rate <= 0 || this.stopped) return
    const start = this.now()
    let sent = 0
    this.pacer = setInterval(() => {
      const due = Math.floor((this.now() - start) / 1000 * rate / batch)
      for (; sent < due; sent++) {
        if (this.inFlight.size >= MAX_IN_FLIGHT) this.counters.skipped++
        else this.track(this.send(batch))
      }
    }, TICK_MS)
  }

  /** Send one request now and wait for its certificates (for warming up). */
  async once (): Promise<void> {
    await this.send(1)
  }

  /** Entries sent and not yet certified. */
  pending (): number {
    let n = 0
    for (const e of this.entries.values()) if (e.certifiedAt === undefined) n++
    return n
  }

  /** Stop sending; wait up to `timeoutMs` for what is in flight. */
  async drain (timeoutMs: number): Promise<void> {
    this.setRate(0, 1)
    const timeout = new AbortController()
    const timedOut = sleep(timeoutMs, undefined, { signal: timeout.signal }).then(() => true, () => true)
    // A request that ends may hand its pending entries to a new poller: look again until none is left.
    while (this.inFlight.size > 0) {
      if (await Promise.race([Promise.all([...this.inFlight]).then(() => false), timedOut])) break
    }
    timeout.abort()
  }

  /** Stop sending and give up on what is in flight. */
  stop (): void {
    this.stopped = true
    this.setRate(0, 1)
  }

  private track (p: Promise<void>): void {
    this.inFlight.add(p)
    void p.finally(() => this.inFlight.delete(p))
  }

  private async send (batch: number): Promise<void> {
    const hashes = Array.from({ length: batch }, () => randomBytes(32).toString('hex'))
    const sentAt = this.now()
    this.counters.requests++
    let items: Array<{ id: string, certificate?: unknown }>
    try {
      const single = batch === 1
      const body = single ? { hash: hashes[0] } : { hashes }
      const res = await this.post(single ? '/v1/hashes' : '/v1/hashes/batch', body)
      if (res.status !== 201 && res.status !== 202) throw new Error(`service answered ${res.status}`)
      const json = await res.json() as { id: string, certificate?: unknown } | { items: Array<{ id: string, certificate?: unknown }> }
      items = 'items' in json ? json.items : [json]
    } catch {
      this.counters.failedRequests++
      return
    }
    for (const item of items) {
      const entry: Entry = { id: item.id, sentAt }
      this.entries.set(item.id, entry)
      if (item.certificate != null) this.certified(entry, item.certificate)
      else this.pendingQueue.push({ entry, due: this.now() + PENDING_POLL_MS })
    }
    if (this.pendingQueue.length > 0) this.track(this.poll())
  }

  /** Ask again for pending entries, a few at a time, each at most once per PENDING_POLL_MS. */
  private async poll (): Promise<void> {
    if (this.polling) return
    this.polling = true
    const worker = async (): Promise<void> => {
      while (!this.stopped && this.pendingQueue.length > 0) {
        const next = this.pendingQueue.shift() as { entry: Entry, due: number }
        const wait = next.due - this.now()
        if (wait > 0) await sleep(wait)
        const json = await this.fetchCertificate(next.entry.id)
        if (json != null) this.certified(next.entry, json)
        else this.pendingQueue.push({ entry: next.entry, due: this.now() + PENDING_POLL_MS })
      }
    }
    try {
      await Promise.all(Array.from({ length: POLLERS }, worker))
    } finally {
      this.polling = false
    }
  }

  private certified (entry: Entry, json: unknown): void {
    entry.certifiedAt = this.now()
    try {
      const cert = certificateFromJson(json)
      if (!this.verifier.verifyChecked(cert).valid) { this.counters.invalid++; return }
      const shape = json as CertificateJson
      entry.height = shape.header.height
      entry.blockHash = shape.commit.blockHash
    } catch {
      this.counters.invalid++
    }
  }

  /** The certificate of `id` from the service, or undefined while it is pending (or unreachable). */
  async fetchCertificate (id: string): Promise<unknown> {
    try {
      const res = await fetch(`${this.serviceUrl}/v1/data/${id}/certificate`, { headers: { authorization: `Bearer ${this.apiKey}` }, signal: AbortSignal.timeout(10_000) })
      if (res.status !== 200) { await res.body?.cancel(); return undefined }
      return await res.json()
    } catch {
      return undefined
    }
  }

  /** Whether the service still hands out a valid certificate for `entry`, in the same block. */
  async stillCertified (entry: Entry): Promise<boolean> {
    const json = await this.fetchCertificate(entry.id)
    if (json == null) return false
    try {
      return this.verifier.verifyChecked(certificateFromJson(json)).valid && (json as CertificateJson).commit.blockHash === entry.blockHash
    } catch {
      return false
    }
  }

  private async post (path: string, body: unknown): Promise<Response> {
    return await fetch(`${this.serviceUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    })
  }
}

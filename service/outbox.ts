/**
 * The worker that turns stored items into certified ones. It takes outbox items in batches,
 * submits their records, long-polls the nodes for certificates (verified by the node client) and
 * stores each certificate as it comes, waking whoever waits for it. On start it picks up whatever
 * the outbox holds, so items stored before a crash are certified after the restart. Submission
 * is idempotent by record id, so resubmitting a batch (after a crash, or when certificates are
 * slow) is always safe; unreachable nodes are retried with capped exponential backoff.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Startable } from '@libp2p/interface'
import { toHex } from '../consensus/ids.js'
import type { Certificate, LedgerRecord } from '../consensus/types.js'
import type { CertificatesOptions, CallOptions, SubmitOutcome } from './node-client.js'
import type { Item, ServiceStore } from './store.js'

/** What the outbox needs from the network (NodeClient provides it). Certificates it returns are already verified. */
export interface CertificateSource {
  submit (records: LedgerRecord[], opts?: CallOptions): Promise<SubmitOutcome>
  certificates (ids: Uint8Array[], opts: CertificatesOptions): Promise<Array<Certificate | null>>
}

export interface OutboxInit {
  store: ServiceStore
  nodes: CertificateSource
  /** Records per submit request. @default 1000 */
  maxBatch?: number
  /** Batches in flight at once: each waits for its block, so enough of them keep blocks full. @default 32 */
  concurrency?: number
  /** How long each certificate request may wait for a commit. @default 10_000 */
  pollWaitMs?: number
  /** Wait after a round without progress, doubling from minMs up to maxMs. @default 200..5000 */
  backoff?: { minMs?: number, maxMs?: number }
  onError?: (err: unknown) => void
}

type Waiter = (cert: Certificate | undefined) => void

export class Outbox implements Startable {
  private readonly maxBatch: number
  private readonly concurrency: number
  private readonly pollWaitMs: number
  private readonly minBackoffMs: number
  private readonly maxBackoffMs: number
  /** Hex ids of items in a batch being worked on. */
  private readonly inFlight = new Set<string>()
  private readonly batches = new Set<Promise<void>>()
  private readonly waiters = new Map<string, Set<Waiter>>()
  private controller = new AbortController()
  private running = false
  private loop: Promise<void> | undefined
  /** Set by notify(); cleared before the outbox is read, so no wake-up is lost in between. */
  private dirty = false
  private wake: (() => void) | undefined
  /** Rounds in a row that certified nothing, and when the next round may start. */
  private failures = 0
  private retryAt = 0
  /** Items certified since start: the figure load tests watch. */
  private certifiedCount = 0

  constructor (private readonly init: OutboxInit) {
    this.maxBatch = init.maxBatch ?? 1000
    this.concurrency = init.concurrency ?? 32
    this.pollWaitMs = init.pollWaitMs ?? 10_000
    this.minBackoffMs = init.backoff?.minMs ?? 200
    this.maxBackoffMs = init.backoff?.maxMs ?? 5_000
  }

  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    this.controller = new AbortController()
    this.dirty = true
    this.failures = 0
    this.retryAt = 0
    this.loop = this.run()
  }

  /** Stops taking batches, cancels requests in flight and releases every waiter; items stay in the outbox. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.controller.abort()
    this.wake?.()
    await this.loop
    await Promise.allSettled([...this.batches])
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w(undefined)
    this.waiters.clear()
  }

  /** Counters for GET /v1/status. */
  stats (): { certified: number, inFlight: number } {
    return { certified: this.certifiedCount, inFlight: this.inFlight.size }
  }

  /** New items are in the store. */
  notify (): void {
    this.dirty = true
    this.wake?.()
  }

  /**
   * The item's certificate once stored, or undefined when `timeoutMs` passes, `signal` fires or
   * the outbox stops first. Reads the store after registering, so a certificate stored in between is not missed.
   */
  async waitForCertificate (id: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<Certificate | undefined> {
    if (!this.running) return undefined
    const key = toHex(id)
    return await new Promise<Certificate | undefined>(resolve => {
      const set = this.waiters.get(key) ?? new Set<Waiter>()
      this.waiters.set(key, set)
      const done: Waiter = cert => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        set.delete(done)
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key)
        resolve(cert)
      }
      const onAbort = (): void => { done(undefined) }
      const timer = setTimeout(onAbort, timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(done)
      this.init.store.getItem(id).then(item => {
        if (item?.certificate != null) done(item.certificate)
      }, () => {})
    })
  }

  private async run (): Promise<void> {
    while (this.running) {
      if (this.batches.size >= this.concurrency || !this.dirty) {
        await this.sleepUntilWoken()
        continue
      }
      // After rounds without progress, hold back until the backoff has passed.
      const wait = this.retryAt - Date.now()
      if (wait > 0) {
        await this.pause(wait)
        continue
      }
      this.dirty = false
      let items: Item[]
      try {
        items = await this.init.store.pending(this.maxBatch, this.inFlight)
      } catch (err) {
        if (!this.running) break
        this.init.onError?.(err)
        this.noProgress(Date.now())
        this.dirty = true
        continue
      }
      if (items.length === 0) continue
      // A full batch suggests more is waiting behind it.
      if (items.length === this.maxBatch) this.dirty = true
      this.launch(items)
    }
  }

  private launch (items: Item[]): void {
    const keys = items.map(i => toHex(i.id))
    for (const k of keys) this.inFlight.add(k)
    const batch = this.round(items).catch(err => { this.init.onError?.(err) }).finally(() => {
      for (const k of keys) this.inFlight.delete(k)
      this.batches.delete(batch)
      // A slot is free, and uncertified items are back in the pool (to join the next batch).
      this.notify()
    })
    this.batches.add(batch)
  }

  /**
   * One round for a batch: submit, long-poll for certificates, store those that came. Items left
   * without one return to the pool, so a batch stuck on slow nodes never holds back newer items.
   */
  private async round (items: Item[]): Promise<void> {
    const signal = this.controller.signal
    const started = Date.now()
    try {
      await this.init.nodes.submit(items.map(i => i.record), { signal })
      const certs = await this.init.nodes.certificates(items.map(i => i.id), { waitMs: this.pollWaitMs, signal })
      const done = items.flatMap((item, i) => { const cert = certs[i]; return cert == null ? [] : [{ id: item.id, certificate: cert }] })
      await this.init.store.certifyMany(done)
      this.certifiedCount += done.length
      for (const { id, certificate } of done) this.release(id, certificate)
      if (done.length > 0) this.failures = 0
      else this.noProgress(started)
    } catch (err) {
      if (!this.running) return
      this.noProgress(started)
      throw err
    }
  }

  /** A round (begun at `started`) certified nothing: back off, counting the time it already took. */
  private noProgress (started: number): void {
    this.failures++
    // A long poll that waited already spaced the retries out; only quick failures need more.
    this.retryAt = Math.max(this.retryAt, started + this.backoffMs(this.failures))
  }

  private release (id: Uint8Array, cert: Certificate): void {
    const set = this.waiters.get(toHex(id))
    if (set !== undefined) for (const w of [...set]) w(cert)
  }

  private backoffMs (failures: number): number {
    const base = Math.min(this.minBackoffMs * 2 ** Math.min(failures - 1, 20), this.maxBackoffMs)
    // Jitter, so many services do not retry in step.
    return base * (0.5 + Math.random() / 2)
  }

  private async sleepUntilWoken (): Promise<void> {
    await new Promise<void>(resolve => {
      this.wake = () => { this.wake = undefined; resolve() }
      if (this.dirty && this.batches.size < this.concurrency) this.wake()
      if (!this.running) this.wake?.()
    })
  }

  /** Wait `ms`, or less when the outbox stops. */
  private async pause (ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.controller.signal }).catch(() => {})
  }

}

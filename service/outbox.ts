/**
 * The worker that turns stored items into certified ones. It takes pending items in batches of
 * entries, has the node client sign and submit each batch once, long-polls the nodes for where
 * the entries were committed (checked by the node client) and stores the certificates, waking
 * whoever waits for them. Clients take turns: each has its own line, a batch takes from every
 * client with items waiting in turn, and each client has a budget of records in flight, so one
 * client's flood never holds another's records behind it. Newly stored items are handed over in
 * memory (add); the store's outbox is read only on start and after the queue overflowed, so items
 * stored before a crash are certified after the restart and a long outage does not hold every
 * pending item in memory. Resubmitting an entry is always safe: the ledger holds each entry once,
 * and a batch some of whose entries landed meanwhile is re-signed without them. Nodes that are
 * unreachable or refuse for now (mempool full, the service's quota) are retried with capped
 * exponential backoff; a batch the validators refuse for good (SubmissionRefusedError) fails:
 * its items are marked failed with the validators' code and message, answered to whoever waits
 * for them and never submitted again, and a refusal of the service itself (its key not
 * registered) also pauses the outbox for long, so a misconfiguration fails one batch, not all.
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Startable } from '@libp2p/interface'
import { certificateOf, type BlockSeal } from '../consensus/certificate.js'
import { idKey } from '../consensus/ids.js'
import type { Certificate } from '../consensus/types.js'
import { SubmissionRefusedError } from './errors.js'
import type { CertificatesOptions, CallOptions, Placement, SubmitOutcome } from './node-client.js'
import type { Certification, Item, ItemFailure, ServiceStore } from './store.js'

/** What the outbox needs from the network (NodeClient provides it). Placements it returns are already checked. */
export interface CertificateSource {
  submit (entries: readonly Uint8Array[], opts?: CallOptions): Promise<SubmitOutcome>
  certificates (entries: readonly Uint8Array[], opts: CertificatesOptions): Promise<Array<Placement | null>>
}

export interface OutboxInit {
  store: ServiceStore
  nodes: CertificateSource
  /** Entries per submission. @default 1000 */
  maxBatch?: number
  /** Batches in flight at once: each waits for its block, so enough of them keep blocks full. @default 32 */
  concurrency?: number
  /** How long each certificate request may wait for a commit. @default 10_000 */
  pollWaitMs?: number
  /**
   * While a round is in flight, a batch short of maxBatch waits up to this long for more items:
   * under a stream of single requests, rounds of hundreds of records instead of one each
   * (every round is a request to each node, and each node gossips what it received). An idle
   * outbox sends at once. About one round per block (blocks under load start at least
   * minBlockIntervalMs, 100 ms by default, after the last commit): rounds sent more often
   * than blocks land in the same block and only add requests and gossip. @default 150
   */
  lingerMs?: number
  /** Pending items held in memory; beyond this they wait in the store until the queue drains. @default 200_000 */
  maxQueued?: number
  /** Wait after a round without progress, doubling from minMs up to maxMs. @default 200..5000 */
  backoff?: { minMs?: number, maxMs?: number }
  /**
   * Records of one client in batches being worked on at once. Below the outbox's whole capacity
   * (concurrency × maxBatch), so batch slots stay free for other clients, and a client's records
   * ahead of another's in the validators' mempool stay below a block's worth by default.
   * @default half of concurrency × maxBatch, at least maxBatch
   */
  maxInFlightPerClient?: number
  /** Pause after the nodes refused the service itself (UNKNOWN_SERVICE, BAD_SIGNATURE, WRONG_SERVICE, FORBIDDEN). @default 60_000 */
  refusedBackoffMs?: number
  /** A round failed and will be retried. */
  onError?: (err: unknown) => void
  /** The nodes refused a batch for good: its items failed. For a refusal of the service itself, an operator must act. */
  onRefused?: (err: SubmissionRefusedError, items: number) => void
}

/** What a wait for an item ends with: its certificate, or why the validators refused it for good. */
export type Outcome = Certificate | ItemFailure
type Waiter = (outcome: Outcome | undefined) => void

/** Whether an outcome is a failure rather than a certificate. */
export function isFailure (outcome: Outcome): outcome is ItemFailure {
  return 'code' in outcome
}

/** Refusals of the service itself rather than of one batch: every batch would meet them. */
const SERVICE_REFUSALS = new Set(['UNKNOWN_SERVICE', 'BAD_SIGNATURE', 'WRONG_SERVICE', 'FORBIDDEN'])
/** A node's words, stored and shown to clients: plain text, bounded. */
const plain = (text: string, max: number): string => text.slice(0, max).replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, '\uFFFD')

export class Outbox implements Startable {
  private readonly maxBatch: number
  private readonly concurrency: number
  private readonly pollWaitMs: number
  private readonly minBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxQueued: number
  private readonly lingerMs: number
  private readonly refusedBackoffMs: number
  private readonly maxInFlightPerClient: number
  /** When the queue last went from empty to not empty. */
  private queueStartedAt = 0
  /**
   * Pending items not in a batch: per client, oldest first, by idKey(id); clients in the order of
   * their next turn (one served moves to the back).
   */
  private readonly lines = new Map<string, Map<string, Item>>()
  /** Items in all lines. */
  private queued = 0
  /** idKey(id) of items in a batch being worked on. */
  private readonly inFlight = new Set<string>()
  /** Records of each client in a batch being worked on. */
  private readonly flying = new Map<string, number>()
  private readonly batches = new Set<Promise<void>>()
  private readonly waiters = new Map<string, Set<Waiter>>()
  private controller = new AbortController()
  private running = false
  private loop: Promise<void> | undefined
  /** The store may hold pending items the queue lacks (at start, after an overflow); cleared before the store is read. */
  private spilled = false
  private wake: (() => void) | undefined
  /** Rounds in a row that certified nothing, and when the next round may start. */
  private failures = 0
  private retryAt = 0
  /** Items certified since start: the figure load tests watch. */
  private certifiedCount = 0
  /** Items failed since start, by the validators' code. */
  private readonly failedByCode = new Map<string, number>()
  /** Client of each item added since start and not yet settled, and the count per client: what the door bounds. */
  private readonly unsettled = new Map<string, string>()
  private readonly unsettledByClient = new Map<string, number>()

  constructor (private readonly init: OutboxInit) {
    this.maxBatch = init.maxBatch ?? 1000
    this.concurrency = init.concurrency ?? 32
    this.pollWaitMs = init.pollWaitMs ?? 10_000
    this.minBackoffMs = init.backoff?.minMs ?? 200
    this.maxBackoffMs = init.backoff?.maxMs ?? 5_000
    this.maxQueued = init.maxQueued ?? 200_000
    this.lingerMs = init.lingerMs ?? 150
    this.refusedBackoffMs = init.refusedBackoffMs ?? 60_000
    this.maxInFlightPerClient = init.maxInFlightPerClient ?? Math.max(this.maxBatch, Math.floor(this.concurrency * this.maxBatch / 2))
  }

  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    this.controller = new AbortController()
    // Every request of every round in flight (up to `concurrency`) links its own signal to this one.
    setMaxListeners(Infinity, this.controller.signal)
    this.lines.clear()
    this.queued = 0
    this.spilled = true
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
  stats (): { certified: number, inFlight: number, queued: number } {
    return { certified: this.certifiedCount, inFlight: this.inFlight.size, queued: this.queued }
  }

  /** Items failed since start (the validators refused them for good), by the validators' code. */
  failedItems (): ReadonlyMap<string, number> {
    return this.failedByCode
  }

  /** Items just stored (pending ones are queued; others are ignored). */
  add (items: readonly Item[]): void {
    for (const item of items) {
      if (item.status === 'pending') this.countUnsettled(item)
      this.enqueue(item)
    }
    this.wake?.()
  }

  /**
   * Records of `client` handed to the outbox since it started and neither certified nor failed
   * yet: the door refuses new ones past its bound (limits.pendingPerClient), so a client's flood
   * meets 429 instead of a line of its own records in front of everyone's.
   */
  unsettledOf (client: string): number {
    return this.unsettledByClient.get(client) ?? 0
  }

  private countUnsettled (item: Item): void {
    const key = idKey(item.id)
    if (this.unsettled.has(key)) return
    this.unsettled.set(key, item.client)
    this.unsettledByClient.set(item.client, (this.unsettledByClient.get(item.client) ?? 0) + 1)
  }

  private settle (id: Uint8Array): void {
    const key = idKey(id)
    const client = this.unsettled.get(key)
    if (client === undefined) return
    this.unsettled.delete(key)
    const n = (this.unsettledByClient.get(client) ?? 1) - 1
    if (n === 0) this.unsettledByClient.delete(client)
    else this.unsettledByClient.set(client, n)
  }

  /**
   * Into its client's line. Past maxQueued an item waits in the store instead, unless its client
   * has less than a batch in line: a client's flood filling memory does not push another's new
   * items out to wait until the whole queue drained.
   */
  private enqueue (item: Item): void {
    if (item.status !== 'pending') return
    const key = idKey(item.id)
    let line = this.lines.get(item.client)
    if (line?.has(key) === true || this.inFlight.has(key)) return
    if (this.queued >= this.maxQueued && (line?.size ?? 0) >= this.maxBatch) { this.spilled = true; return }
    if (this.queued === 0) this.queueStartedAt = Date.now()
    if (line === undefined) { line = new Map(); this.lines.set(item.client, line) }
    line.set(key, item)
    this.queued++
  }

  /** Whether some client has items in line and room in its budget. */
  private ready (): boolean {
    for (const [client, line] of this.lines) if (line.size > 0 && (this.flying.get(client) ?? 0) < this.maxInFlightPerClient) return true
    return false
  }

  /**
   * The next batch: one item from each client with items in line and room in its budget, in
   * turn, until the batch is full. Clients served move to the back of the turns, in the order
   * served, so the next batch starts with those this one did not reach.
   */
  private takeBatch (): Item[] {
    const items: Item[] = []
    const served: string[] = []
    const taken = new Map<string, number>()
    let progress = true
    while (progress && items.length < this.maxBatch) {
      progress = false
      for (const [client, line] of this.lines) {
        if (items.length >= this.maxBatch) break
        const mine = taken.get(client) ?? 0
        if ((this.flying.get(client) ?? 0) + mine >= this.maxInFlightPerClient) continue
        const next = line.entries().next()
        if (next.done === true) continue
        const [key, item] = next.value
        line.delete(key)
        items.push(item)
        if (mine === 0) served.push(client)
        taken.set(client, mine + 1)
        progress = true
      }
    }
    this.queued -= items.length
    for (const client of served) {
      const line = this.lines.get(client) as Map<string, Item>
      this.lines.delete(client)
      if (line.size > 0) this.lines.set(client, line)
    }
    return items
  }

  /**
   * The item's certificate once stored, or its failure once the validators refused it for good, or
   * undefined when `timeoutMs` passes, `signal` fires or the outbox stops first. Reads the store
   * after registering, so an outcome stored in between is not missed; `justAdded` skips that read
   * for an item handed to add() in this same turn of the event loop, which no round can have
   * settled yet.
   */
  async waitForCertificate (id: Uint8Array, timeoutMs: number, signal?: AbortSignal, justAdded = false): Promise<Outcome | undefined> {
    return (await this.waitForCertificates([id], timeoutMs, signal, justAdded))[0]
  }

  /** waitForCertificate() for many items under one timer: what a batch request waits for. */
  async waitForCertificates (ids: readonly Uint8Array[], timeoutMs: number, signal?: AbortSignal, justAdded = false): Promise<Array<Outcome | undefined>> {
    const out: Array<Outcome | undefined> = ids.map(() => undefined)
    if (!this.running || ids.length === 0) return out
    const keys = ids.map(idKey)
    return await new Promise(resolve => {
      let left = ids.length
      const registered: Array<[string, Waiter]> = []
      const finish = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', finish)
        for (const [key, waiter] of registered) {
          const set = this.waiters.get(key)
          set?.delete(waiter)
          if (set?.size === 0) this.waiters.delete(key)
        }
        registered.length = 0
        resolve(out)
      }
      const timer = setTimeout(finish, timeoutMs)
      signal?.addEventListener('abort', finish, { once: true })
      keys.forEach((key, i) => {
        let answered = false
        const waiter: Waiter = outcome => {
          if (answered) return
          answered = true
          out[i] = outcome
          // undefined: the outbox stopped, and so does the wait.
          if (outcome === undefined || --left === 0) finish()
        }
        let set = this.waiters.get(key)
        if (set === undefined) { set = new Set(); this.waiters.set(key, set) }
        set.add(waiter)
        registered.push([key, waiter])
        if (!justAdded) {
          this.init.store.getItem(ids[i] as Uint8Array).then(item => {
            const outcome = item?.certificate ?? item?.failure
            if (outcome != null) waiter(outcome)
          }, () => {})
        }
      })
    })
  }

  /** Whether a batch could be launched now: a slot is free, and items are ready or the store is to be read. */
  private hasWork (): boolean {
    return this.batches.size < this.concurrency && ((this.queued === 0 && this.spilled) || this.ready())
  }

  private async run (): Promise<void> {
    while (this.running) {
      if (!this.hasWork()) {
        await this.sleepUntilWoken()
        continue
      }
      // After rounds without progress, hold back until the backoff has passed.
      const wait = this.retryAt - Date.now()
      if (wait > 0) {
        await this.pause(wait)
        continue
      }
      if (this.queued === 0) {
        await this.refill()
        continue
      }
      const linger = this.queueStartedAt + this.lingerMs - Date.now()
      if (this.batches.size > 0 && this.queued < this.maxBatch && linger > 0) {
        await this.pause(linger, true)
        continue
      }
      this.launch(this.takeBatch())
    }
  }

  /** Read pending items from the store into the empty queue. */
  private async refill (): Promise<void> {
    this.spilled = false
    const limit = Math.min(this.maxQueued, 10 * this.maxBatch)
    let items: Item[]
    try {
      items = await this.init.store.pending(limit, this.inFlight)
    } catch (err) {
      if (!this.running) return
      this.init.onError?.(err)
      this.noProgress(Date.now())
      this.spilled = true
      return
    }
    for (const item of items) this.enqueue(item)
    // A full read suggests more is waiting behind it.
    if (items.length >= limit) this.spilled = true
  }

  private launch (items: Item[]): void {
    const keys = items.map(i => idKey(i.id))
    for (const k of keys) this.inFlight.add(k)
    for (const item of items) this.flying.set(item.client, (this.flying.get(item.client) ?? 0) + 1)
    const batch = this.round(items).catch(async err => {
      if (err instanceof SubmissionRefusedError && this.running) return await this.fail(items, err)
      this.init.onError?.(err)
      return items
    }).then(left => {
      for (const k of keys) this.inFlight.delete(k)
      for (const item of items) {
        const n = (this.flying.get(item.client) ?? 1) - 1
        if (n === 0) this.flying.delete(item.client)
        else this.flying.set(item.client, n)
      }
      this.batches.delete(batch)
      // Uncertified items go back to the queue, to join the next batch.
      for (const item of left) this.enqueue(item)
      this.wake?.()
    })
    this.batches.add(batch)
  }

  /**
   * One round for a batch: submit, long-poll for placements, store the certificates that came.
   * Returns the items left without one, so a batch stuck on slow nodes never holds back newer items.
   */
  private async round (items: Item[]): Promise<Item[]> {
    const signal = this.controller.signal
    const started = Date.now()
    try {
      const entries = items.map(i => i.id)
      await this.init.nodes.submit(entries, { signal })
      const placements = await this.init.nodes.certificates(entries, { waitMs: this.pollWaitMs, signal })
      const done: Certification[] = []
      const left: Item[] = []
      items.forEach((item, i) => {
        const p = placements[i]
        if (p == null) left.push(item)
        else done.push({ item, seal: p.seal, proof: p.proof, leaves: p.leaves })
      })
      const seals = await this.init.store.certifyMany(done)
      this.certifiedCount += done.length
      done.forEach(({ item, proof }, i) => { this.release(item.id, () => certificateOf(item.record, item.salt, seals[i] as BlockSeal, proof)) })
      if (done.length > 0) this.failures = 0
      else this.noProgress(started)
      return left
    } catch (err) {
      if (!this.running) return []
      if (!(err instanceof SubmissionRefusedError)) this.noProgress(started)
      else if (SERVICE_REFUSALS.has(err.reason)) this.retryAt = Math.max(this.retryAt, Date.now() + this.refusedBackoffMs)
      throw err
    }
  }

  /**
   * The validators refused the batch for good: store each item's failure (their code and message),
   * answer whoever waits, count them. Returns the items left to retry: none, unless the store
   * could not record the failure.
   */
  private async fail (items: Item[], err: SubmissionRefusedError): Promise<Item[]> {
    const failure: ItemFailure = { code: plain(err.reason, 64), message: plain(err.message, 1000), at: Date.now() }
    try {
      await this.init.store.failMany(items, failure)
    } catch (storeErr) {
      this.init.onError?.(storeErr)
      this.noProgress(Date.now())
      return items
    }
    this.failedByCode.set(failure.code, (this.failedByCode.get(failure.code) ?? 0) + items.length)
    this.init.onRefused?.(err, items.length)
    for (const item of items) this.release(item.id, () => failure)
    return []
  }

  /** A round (begun at `started`) certified nothing: back off, counting the time it already took. */
  private noProgress (started: number): void {
    this.failures++
    // A long poll that waited already spaced the retries out; only quick failures need more.
    this.retryAt = Math.max(this.retryAt, started + this.backoffMs(this.failures))
  }

  /** Wake whoever waits for this item; the outcome (a certificate) is built only if someone does. */
  private release (id: Uint8Array, outcome: () => Outcome): void {
    this.settle(id)
    const set = this.waiters.get(idKey(id))
    if (set === undefined) return
    const settled = outcome()
    for (const w of [...set]) w(settled)
  }

  private backoffMs (failures: number): number {
    const base = Math.min(this.minBackoffMs * 2 ** Math.min(failures - 1, 20), this.maxBackoffMs)
    // Jitter, so many services do not retry in step.
    return base * (0.5 + Math.random() / 2)
  }

  private async sleepUntilWoken (): Promise<void> {
    await new Promise<void>(resolve => {
      this.wake = () => { this.wake = undefined; resolve() }
      if (this.hasWork()) this.wake()
      if (!this.running) this.wake?.()
    })
  }

  /** Wait `ms`, or less when the outbox stops (or, with `wakeable`, when woken). */
  private async pause (ms: number, wakeable = false): Promise<void> {
    if (!wakeable) {
      await sleep(ms, undefined, { signal: this.controller.signal }).catch(() => {})
      return
    }
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>(resolve => {
      this.wake = () => { this.wake = undefined; resolve() }
      timer = setTimeout(this.wake, ms)
      if (!this.running) this.wake()
    })
    clearTimeout(timer)
  }

}

/**
 * The serial input loop around the consensus machine: peer messages, local submissions and timer
 * events are fed one at a time, and each step's actions are carried out in order before the next
 * input: persist what we sign (synced) before it is sent, write each committed block in one
 * synced batch (so the machine's committed-entry lookup, backed by the store, sees it at the next
 * input), answer those waiting for its entries, keep evidence of validators that signed
 * conflicting messages, arm real timers, fetch missed blocks from peers.
 */
import type { Logger } from 'pino'
import type { ChainTip } from '../consensus/block.js'
import type { Evidence } from '../consensus/evidence.js'
import { entriesOf, entryAt, entryCount } from '../consensus/entries.js'
import { headerHash, idKey } from '../consensus/ids.js'
import type { Action, Input, Machine, Step } from '../consensus/machine.js'
import type { Block, Commit, ConsensusMessage, Submission } from '../consensus/types.js'
import type { SubmitStatus } from '../protocol/node-api.js'
import { TrustnetError } from '../consensus/errors.js'
import type { ChainStore, StoredBlock } from './store/chain-store.js'

export interface DriverDeps {
  machine: Machine
  store: ChainStore
  /** Send to all peers; must not throw. `resend`: a copy of something sent before. */
  publish: (message: ConsensusMessage, resend: boolean) => void
  /** Committed blocks from `fromHeight` on, asked of validator `from` (or anyone). */
  fetchBlocks: (from: number, fromHeight: number) => Promise<StoredBlock[]>
  now: () => number
  log: Logger
  /** Re-gossip submissions taken here (off by default: services submit to every validator). */
  gossipSubmissions?: boolean
  /** Told of each block once it is stored as committed (metrics). */
  onCommitted?: (block: Block) => void
}

/** Where consensus stands, as of the last step. */
export interface ConsensusStatus { tip: ChainTip, round: number, step: Step, leader: number, mempool: number }

interface Waiter { pending: Set<string>, done: (all: boolean) => void }

export class ConsensusDriver {
  private tail: Promise<void> = Promise.resolve()
  private readonly timers = new Set<NodeJS.Timeout>()
  /** idKey(entry) -> callers waiting for it to be committed */
  private readonly waiters = new Map<string, Set<Waiter>>()
  /** Callers waiting for the chain to reach a height, answered as blocks commit. */
  private readonly heightWaiters = new Set<{ height: number, done: (reached: boolean) => void }>()
  private syncing = false
  private stopped = false
  private evidenceOverBound = 0

  constructor (private readonly deps: DriverDeps) {}

  get machine (): Machine { return this.deps.machine }

  // Reads between steps: the machine's state only changes inside step(), which runs to its end
  // synchronously, so these see it as the last step left it.

  /** Entries waiting in the mempool. */
  get mempoolSize (): number {
    return this.deps.machine.mempoolSize
  }

  status (): ConsensusStatus {
    const m = this.deps.machine
    return { tip: m.lastCommitted, round: m.currentRound, step: m.currentStep, leader: m.validators.proposer(m.height, m.currentRound), mempool: m.mempoolSize }
  }

  /** Pieces of evidence not kept because their slot held enough already (each was logged). */
  get evidenceNotKept (): number {
    return this.evidenceOverBound
  }

  async start (): Promise<void> {
    await this.enqueue({ type: 'start' })
  }

  /** Ends the loop: no more inputs, no timers left, and callers waiting for entries are answered (false). */
  async stop (): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    const waiting = new Set([...this.waiters.values()].flatMap(set => [...set]))
    for (const waiter of waiting) waiter.done(false)
    for (const waiter of [...this.heightWaiters]) waiter.done(false)
    await this.tail.catch(() => undefined)
  }

  /** A message from a peer, already decoded and checked against the validator set. */
  async deliver (message: ConsensusMessage): Promise<void> {
    try {
      await this.enqueue({ type: 'message', message })
    } catch (err) {
      if (!(err instanceof TrustnetError)) throw err
      this.deps.log.debug({ code: err.code, type: message.type }, 'message refused: %s', err.message)
    }
  }

  /**
   * A submission a registered service signed, as the submit handler checked it (ServiceSet.check).
   * The signature covers it whole, so it is taken whole or not at all: if any of its entries is
   * on chain already, those are `committed` and the others `resubmit` (the service signs them
   * again without the committed ones); otherwise it enters the mempool and every entry is
   * `pending` (MEMPOOL_FULL refuses it).
   */
  async submit (submission: Submission): Promise<SubmitStatus[]> {
    const onChain = await this.deps.store.onChain(entriesOf(submission))
    if (onChain.includes(true)) return onChain.map(c => c ? 'committed' : 'resubmit')
    await this.enqueue({ type: 'submit', submissions: [submission], checked: true })
    return onChain.map(() => 'pending')
  }

  /** Resolves when every entry is on chain, or after `ms`; true if all are. */
  async waitForEntries (entries: readonly Uint8Array[], ms: number, signal?: AbortSignal): Promise<boolean> {
    const onChain = await this.deps.store.onChain(entries)
    const pending = new Set(entries.filter((_, i) => onChain[i] !== true).map(idKey))
    if (pending.size === 0) return true
    if (ms <= 0 || signal?.aborted === true || this.stopped) return false
    return await new Promise<boolean>(resolve => {
      const waiter: Waiter = { pending, done: all => finish(all) }
      const finish = (all: boolean): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', abort)
        for (const key of pending) this.waiters.get(key)?.delete(waiter)
        resolve(all)
      }
      const abort = (): void => finish(false)
      const timer = setTimeout(abort, ms)
      signal?.addEventListener('abort', abort, { once: true })
      for (const key of pending) {
        let set = this.waiters.get(key)
        if (set === undefined) { set = new Set(); this.waiters.set(key, set) }
        set.add(waiter)
      }
    })
  }

  /**
   * Resolves when this validator has committed `height`, or after `ms`; true if it has. A
   * validator a block behind its peers (the precommits that sealed it still on their way) waits
   * a moment rather than answering a question about that block with not-found.
   */
  async waitForHeight (height: number, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.status().tip.height >= height) return true
    if (ms <= 0 || signal?.aborted === true || this.stopped) return false
    return await new Promise<boolean>(resolve => {
      const waiter = { height, done: (reached: boolean) => finish(reached) }
      const finish = (reached: boolean): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', abort)
        this.heightWaiters.delete(waiter)
        resolve(reached)
      }
      const abort = (): void => finish(false)
      const timer = setTimeout(abort, ms)
      signal?.addEventListener('abort', abort, { once: true })
      this.heightWaiters.add(waiter)
    })
  }

  private async enqueue (input: Input): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.stopped && input.type !== 'start') return
      const started = performance.now()
      const actions = this.deps.machine.step(input, this.deps.now())
      const stepped = performance.now()
      // Consecutive persists go to disk in one synced write, before anything that follows them.
      let persist: ConsensusMessage[] = []
      for (const action of actions) {
        if (action.type === 'persist') { persist.push(action.message); continue }
        if (persist.length > 0) { await this.deps.store.appendSigned(persist); persist = [] }
        await this.act(action)
      }
      if (persist.length > 0) await this.deps.store.appendSigned(persist)
      const done = performance.now()
      if (done - started > 50) this.deps.log.debug({ input: input.type === 'message' ? input.message.type : input.type, stepMs: Math.round(stepped - started), actMs: Math.round(done - stepped), actions: actions.map(a => a.type).join(',') }, 'slow step')
    })
    this.tail = run.catch(() => undefined)
    await run
  }

  /** Every action but persist, which enqueue() batches to disk itself. */
  private async act (action: Exclude<Action, { type: 'persist' }>): Promise<void> {
    switch (action.type) {
      case 'broadcast':
        // Services hand every submission to every validator; gossiping them again would multiply
        // the bytes on the wire by n. Proposals carry their submissions whole.
        if (action.message.type === 'submissions' && this.deps.gossipSubmissions !== true) return
        this.deps.publish(action.message, action.resend === true)
        return
      case 'schedule': {
        if (this.stopped) return
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          this.enqueue({ type: 'timeout', timeout: action.timeout }).catch(err => this.deps.log.error({ err }, 'timeout failed'))
        }, action.afterMs)
        this.timers.add(timer)
        return
      }
      case 'commit':
        await this.commit(action.block, action.commit)
        return
      case 'sync-needed':
        this.sync(action.from, action.height)
        return
      case 'evidence':
        await this.keepEvidence(action.evidence)
    }
  }

  private async keepEvidence (evidence: Evidence): Promise<void> {
    const { validator, height, round, kind } = evidence
    const outcome = await this.deps.store.putEvidence(evidence)
    if (outcome === 'stored') {
      this.deps.log.warn({ validator, height, round, kind }, 'validator %d signed conflicting messages at height %d round %d (%s)', validator, height, round, kind)
    } else if (outcome === 'duplicate') {
      this.deps.log.debug({ validator, height, round, kind }, 'evidence already kept')
    } else {
      this.evidenceOverBound++
      this.deps.log.warn({ validator, height, round, kind, notKept: this.evidenceOverBound }, 'more evidence against validator %d at height %d round %d (%s) than is kept: not stored', validator, height, round, kind)
    }
  }

  private async commit (block: Block, commit: Commit): Promise<void> {
    const hash = headerHash(block.header)
    await this.deps.store.commitBlock(block, commit, hash)
    this.deps.onCommitted?.(block)
    this.deps.log.debug({ height: block.header.height, entries: block.header.entryCount, submissions: block.submissions.length, round: commit.round }, 'committed')
    for (const waiter of [...this.heightWaiters]) if (waiter.height <= block.header.height) waiter.done(true)
    if (this.waiters.size === 0) return
    for (const s of block.submissions) for (let i = 0; i < entryCount(s); i++) this.wake(idKey(entryAt(s, i)))
  }

  /** The entry (by idKey) is on chain: callers waiting for it and nothing else are answered. */
  private wake (key: string): void {
    const set = this.waiters.get(key)
    if (set === undefined) return
    this.waiters.delete(key)
    for (const waiter of set) {
      waiter.pending.delete(key)
      if (waiter.pending.size === 0) waiter.done(true)
    }
  }

  /** Fetch missed blocks in the background; the machine checks each commit before applying it. */
  private sync (from: number, height: number): void {
    if (this.syncing || this.stopped) return
    this.syncing = true
    this.deps.fetchBlocks(from, height)
      .then(async blocks => {
        for (const { block, commit } of blocks) await this.deliver({ type: 'committed', block, commit })
      })
      .catch(err => this.deps.log.debug({ err: (err as Error).message, from, height }, 'sync request failed'))
      .finally(() => { this.syncing = false })
  }
}

/**
 * The service's link to the trust network: one libp2p host of its own (not a validator) that
 * reaches the configured nodes over the node-api protocols, and the service's registered key,
 * which signs each submission of entries once. Nothing a node says is taken on trust: a block
 * counts only once its commit is checked against the genesis and its leaves rebuild its header's
 * root; an attestation only if its validator signed it and it answers the question asked; a node
 * answering garbage is skipped. Submissions go to several nodes and verifications collect a
 * quorum of distinct validators, so f crashed or lying nodes change nothing.
 */
import '../lib/promise-shim.js'
import { setMaxListeners } from 'node:events'
import type { Startable } from '@libp2p/interface'
import { multiaddr, CODE_P2P } from '@multiformats/multiaddr'
import type { z } from 'zod'
import { CertificateVerifier, type BlockSeal } from '../consensus/certificate.js'
import { TrustnetError } from '../consensus/errors.js'
import { decode, encode, equalBytes } from '../consensus/codec.js'
import { defaultEd25519 } from '../consensus/ed25519.js'
import { entriesOf, leavesOf, packEntries, signSubmission } from '../consensus/entries.js'
import { headerHash, idKey, toHex } from '../consensus/ids.js'
import {
  CertificateResponseSchema, ErrorResponseSchema, MAX_BATCH, MAX_WAIT_MS, PROTOCOL, SubmitResponseSchema, VerifyResponseSchema,
  verifyAttestation, type Attestation, type CertificateRequest, type SealedBlock, type SubmitRequest, type VerifyRequest
} from '../protocol/node-api.js'
import type { Genesis, InclusionProof } from '../consensus/types.js'
import { ValidatorSet } from '../consensus/validator-set.js'
import { createHost, peerIdFromEd25519PublicKey, type Host } from '../net/host.js'
import { RequestResponse } from '../net/request-response.js'
import { BoundedMap } from '../lib/bounded-map.js'
import { ConfigError } from '../lib/json-file.js'
import { NodesUnavailableError, QuorumUnavailableError, StoppedError, SubmissionRefusedError } from './errors.js'

export interface NodeClientInit {
  genesis: Genesis
  /** Node multiaddrs, each ending in /p2p/<peerId>. */
  nodes: string[]
  /** The service's key (32-byte ed25519 seed): its libp2p identity, and what signs its submissions. */
  seed: Uint8Array
  /** The service's name: the genesis must register it with the seed's public key. */
  serviceId: string
  /** Nodes each submission is sent to. @default all configured nodes */
  submitTo?: number
  /** Time allowed for a submit or verify exchange with one node. @default 10_000 */
  requestTimeoutMs?: number
  /** Called when a node answers something unusable; for logs. */
  onBadAnswer?: (node: string, protocol: string, reason: string) => void
}

/** A configured node, and the validator its peer id names (undefined for a non-validator). */
export interface NodeEndpoint {
  addr: string
  peerId: string
  validator: number | undefined
}

export interface SubmitOutcome {
  /** Nodes that took the last submission sent (every entry pending or committed). */
  acknowledged: number
  /** Entries some node said are on chain already, as idKey: their certificates can be fetched at once. */
  committed: ReadonlySet<string>
}

export interface VerifyOutcome {
  /** Valid attestations, at most one per validator. */
  attestations: Attestation[]
  /** Attestations that say the presented entry is the one anchored at the place asked about. */
  matches: number
  quorum: number
  /** The anchored entry most validators attest to (null: nothing at that place on their chain). */
  anchored: Uint8Array | null
}

export interface CallOptions { signal?: AbortSignal }

/** An entry's place in a block whose seal (header and quorum commit) was checked: with the record and salt, its certificate. */
export interface Placement {
  seal: BlockSeal
  proof: InclusionProof
  /** Every leaf of the block, in order (checked against the header's root): what rebuilds the proof later. */
  leaves: readonly Uint8Array[]
}
export interface CertificatesOptions extends CallOptions {
  /** How long nodes may hold the answer for entries not yet committed. */
  waitMs: number
}

const KiB = 1024
const MiB = 1024 * KiB
/** Blocks are about 34 bytes per entry; room for a node's largest answer. */
const MAX_CERTIFICATES_RESPONSE = 64 * MiB
/** How long the first node asked for certificates has before the others are asked too. */
const HEDGE_MS = 1500
/** Submissions signed for one batch when nodes keep answering `resubmit` (entries landing meanwhile). */
const MAX_RESUBMITS = 3
/**
 * Refusals no retry can cure: of the service itself (the genesis does not know its key, or its
 * libp2p key speaks for another index), or of the submission as it stands (it does not decode, or
 * no block could hold it). Any other refusal (MEMPOOL_FULL, SERVICE_QUOTA, BUSY, INTERNAL) passes.
 */
export const PERMANENT_REFUSALS: ReadonlySet<string> = new Set([
  'UNKNOWN_SERVICE', 'BAD_SIGNATURE', 'WRONG_SERVICE', 'FORBIDDEN',
  'MALFORMED', 'NON_CANONICAL', 'OVERSIZED', 'INVALID_FIELD', 'DUPLICATE'
])

/**
 * Blocks whose leaves were checked, remembered: the answers for one block's batches come within
 * moments of each other. Few, since each holds its Merkle tree and a proof per leaf.
 */
const CHECKED_BLOCKS = 4

interface CheckedTree {
  leaves: readonly Uint8Array[]
  proofs: InclusionProof[]
  /** idKey(entry) -> position in the block, for leaves of this service only */
  indexOf: Map<string, number>
}

/** Which of the two answers a request got: the expected body, or a node's refusal (its code, and its message when it sent one). */
type Answer<T> = { ok: true, value: T } | { ok: false, reason: string, message?: string }
interface Refusal { code: string, message: string }

export class NodeClient implements Startable {
  readonly endpoints: readonly NodeEndpoint[]
  private readonly validators: ValidatorSet
  private readonly requestTimeoutMs: number
  private readonly submitTo: number
  private host: Host | undefined
  private rr: RequestResponse | undefined
  private controller = new AbortController()
  /** Checked trees by header hash (hex). */
  private readonly trees = new BoundedMap<string, CheckedTree>(CHECKED_BLOCKS)
  private readonly verifier: CertificateVerifier
  private submitRotation = 0
  private certificateRotation = 0
  /** The service's index in genesis.services, found at start. */
  private service = -1

  constructor (private readonly init: NodeClientInit) {
    this.validators = new ValidatorSet(init.genesis)
    this.verifier = new CertificateVerifier(init.genesis)
    const byPeer = new Map(init.genesis.validators.map((v, i) => [peerIdFromEd25519PublicKey(v.publicKey), i]))
    this.endpoints = init.nodes.map(addr => {
      const peerId = multiaddr(addr).getComponents().findLast(c => c.code === CODE_P2P)?.value
      if (peerId === undefined) throw new TypeError(`node address ${addr} does not end in /p2p/<peerId>`)
      return { addr, peerId, validator: byPeer.get(peerId) }
    })
    this.requestTimeoutMs = init.requestTimeoutMs ?? 10_000
    this.submitTo = Math.min(init.submitTo ?? this.endpoints.length, this.endpoints.length)
  }

  get peerId (): string | undefined { return this.host?.peerId }

  /** The service's index in the genesis (what its leaves carry); -1 before start. */
  get serviceIndex (): number { return this.service }

  /** Addresses of the configured nodes this client holds a connection to now (refused or lost ones are redialled). */
  connectedNodes (): string[] {
    const peers = new Set(this.host?.connectedPeers() ?? [])
    return this.endpoints.filter(e => peers.has(e.peerId)).map(e => e.addr)
  }

  /** Throws ConfigError SERVICE_NOT_REGISTERED unless the genesis registers this service's name with the seed's key. */
  async start (): Promise<void> {
    this.service = registeredIndex(this.init.genesis, this.init.serviceId, this.init.seed)
    this.controller = new AbortController()
    // Every request in flight links its own signal to this one.
    setMaxListeners(Infinity, this.controller.signal)
    this.host = await createHost({
      privateKeySeed: this.init.seed,
      // Outbound only: nothing needs to reach the service over libp2p.
      listen: [],
      peers: this.endpoints.map(e => e.addr),
      // Nobody but the configured nodes may connect.
      allowedPeers: new Set(this.endpoints.map(e => e.peerId)),
      redial: { minDelayMs: 250, maxDelayMs: 5_000 }
      // No gossip (nor the identify and ping it needs): the service only sends requests.
    })
    this.rr = new RequestResponse(this.host.node)
  }

  async stop (): Promise<void> {
    this.controller.abort()
    const host = this.host
    this.host = undefined
    this.rr = undefined
    await host?.stop()
  }

  /**
   * Sign `entries` (at most MAX_BATCH) as one submission and send it to `submitTo` nodes
   * (rotating), resolving once f+1 of them took it (at least one honest node has it) or all
   * answered. A node that finds some entries on chain already takes none of them (the signature
   * covers the whole submission) and answers `resubmit` for the others: those are signed again
   * in a new submission, up to MAX_RESUBMITS times. The other requests carry on in the
   * background. Throws SubmissionRefusedError (the nodes' code as `reason`, their message as its
   * message) when none took it and f+1 of them (or every node asked, if fewer) refused it for good
   * (PERMANENT_REFUSALS): at least one honest node did, so one lying node cannot fail a batch.
   * Throws NodesUnavailableError when no node took it otherwise (unreachable, or refusing for now).
   */
  async submit (entries: readonly Uint8Array[], opts: CallOptions = {}): Promise<SubmitOutcome> {
    if (this.service < 0) throw new StoppedError('the node client is not started')
    if (entries.length === 0 || entries.length > MAX_BATCH) throw new RangeError(`a submission holds 1 to ${MAX_BATCH} entries, not ${entries.length}`)
    const committed = new Set<string>()
    let todo = entries
    for (let attempt = 0; ; attempt++) {
      const { acknowledged, resubmit, refusals } = await this.submitOnce(todo, committed, opts)
      this.throwIfStopped(opts.signal)
      todo = todo.filter(e => !committed.has(idKey(e)))
      if (acknowledged > 0 || todo.length === 0) return { acknowledged, committed }
      if (resubmit && attempt + 1 < MAX_RESUBMITS) continue
      const permanent = refusals.filter(r => PERMANENT_REFUSALS.has(r.code))
      if (permanent.length > 0 && permanent.length >= Math.min(this.validators.maxFaulty + 1, this.submitTo)) {
        const first = permanent[0] as Refusal
        throw new SubmissionRefusedError(first.code, first.message)
      }
      if (resubmit) return { acknowledged, committed }
      throw new NodesUnavailableError('no node accepted the submission', { nodes: this.submitTo, refusals: refusals.map(r => r.code) })
    }
  }

  /** One signed submission of `entries` to the next `submitTo` nodes; entries any node says are on chain join `committed`. */
  private async submitOnce (entries: readonly Uint8Array[], committed: Set<string>, opts: CallOptions): Promise<{ acknowledged: number, resubmit: boolean, refusals: Refusal[] }> {
    const submission = signSubmission(this.init.genesis.chainId, this.service, packEntries(entries), this.init.seed, defaultEd25519)
    const body = encode({ submission } satisfies SubmitRequest)
    const start = this.submitRotation++ % this.endpoints.length
    const targets = Array.from({ length: this.submitTo }, (_, k) => this.endpoints[(start + k) % this.endpoints.length] as NodeEndpoint)
    const enough = Math.min(this.validators.maxFaulty + 1, targets.length)
    let acknowledged = 0
    let resubmit = false
    const refusals: Refusal[] = []
    const local = linkedController(opts.signal, this.controller.signal)
    const tasks = targets.map(async node => {
      const answer = await this.ask(node, PROTOCOL.submit, body, SubmitResponseSchema, { timeoutMs: this.requestTimeoutMs, maxResponseBytes: 64 * KiB, signal: local.signal })
      if (!answer.ok) { refusals.push({ code: answer.reason, message: answer.message ?? answer.reason }); return }
      const status = answer.value.status
      if (status.length !== entries.length) return this.bad(node, PROTOCOL.submit, 'status count differs from entry count')
      status.forEach((s, i) => { if (s === 'committed') committed.add(idKey(entries[i] as Uint8Array)) })
      if (status.includes('resubmit')) resubmit = true
      else acknowledged++
    })
    // Requests still running when enough nodes took it carry on; the link is dropped when all are done.
    void Promise.allSettled(tasks).then(() => { local.abort() })
    await settleUntil(tasks, () => acknowledged >= enough)
    return { acknowledged, resubmit, refusals }
  }

  /**
   * Where each of `entries` sits on chain, from whichever nodes give valid answers first: a node
   * answers with the sealed blocks holding them, each checked here once (a quorum signed the
   * header, the block's leaves rebuild its root) before any of its entries counts as certified.
   * Only leaves bound to this service count. null for entries no node placed in time. One node is
   * asked first (rotating): every node would send the same blocks; the others are asked when it
   * fails or has not answered within HEDGE_MS. Throws NodesUnavailableError when no node answered.
   */
  async certificates (entries: readonly Uint8Array[], opts: CertificatesOptions): Promise<Array<Placement | null>> {
    const waitMs = Math.min(opts.waitMs, MAX_WAIT_MS)
    const keys = entries.map(idKey)
    // idKey(entry) -> first position asked
    const wanted = new Map<string, number>()
    keys.forEach((key, i) => { if (!wanted.has(key)) wanted.set(key, i) })
    const found: Array<Placement | null> = entries.map(() => null)
    if (wanted.size === 0) return found
    const unique = [...wanted.values()].map(i => entries[i] as Uint8Array)
    const body = encode({ entries: packEntries(unique), waitMs } satisfies CertificateRequest)
    let missing = wanted.size
    let answered = 0
    const local = linkedController(opts.signal, this.controller.signal)
    const start = this.certificateRotation++ % this.endpoints.length
    const order = this.endpoints.map((_, k) => this.endpoints[(start + k) % this.endpoints.length] as NodeEndpoint)
    let hedge: () => void = () => {}
    const hedged = new Promise<void>(resolve => { hedge = resolve })
    const timer = setTimeout(hedge, HEDGE_MS)
    try {
      await settleUntil(order.map(async (node, k) => {
        if (k > 0) {
          await hedged
          if (missing === 0 || local.signal.aborted) return
        }
        const answer = await this.ask(node, PROTOCOL.certificate, body, CertificateResponseSchema, {
          timeoutMs: waitMs + this.requestTimeoutMs, maxResponseBytes: MAX_CERTIFICATES_RESPONSE, signal: local.signal
        })
        if (!answer.ok) return
        answered++
        for (const sealed of answer.value.blocks) {
          let tree: CheckedTree
          try {
            tree = this.checkedBlock(sealed)
          } catch (err) {
            if (!(err instanceof TrustnetError)) throw err
            this.bad(node, PROTOCOL.certificate, `block ${sealed.block.header.height}: ${err.message}`)
            continue
          }
          const seal: BlockSeal = { header: sealed.block.header, commit: sealed.commit }
          for (const [key, i] of wanted) {
            const at = tree.indexOf.get(key)
            if (at === undefined || found[i] !== null) continue
            found[i] = { seal, proof: tree.proofs[at] as InclusionProof, leaves: tree.leaves }
            missing--
          }
        }
      }).map(async (task, k) => { try { await task } finally { if (k === 0) hedge() } }), () => missing === 0)
    } finally {
      clearTimeout(timer)
      hedge()
      local.abort()
    }
    this.throwIfStopped(opts.signal)
    if (answered === 0 && missing > 0) throw new NodesUnavailableError('no node answered the certificate request', { nodes: this.endpoints.length })
    // An entry asked twice has one answer.
    return keys.map((key, i) => found[i] ?? found[wanted.get(key) as number] ?? null)
  }

  /**
   * A sealed block checked: its commit signed by a quorum of the genesis validators (each
   * distinct commit once), its leaves rebuilding the header's root (once per header, whatever
   * quorum's commit comes with it). Throws TrustnetError when anything does not hold.
   */
  private checkedBlock ({ block, commit }: SealedBlock): CheckedTree {
    const key = toHex(headerHash(block.header))
    const known = this.trees.get(key)
    if (known !== undefined) {
      this.verifier.checkSeal(block.header, commit)
      return known
    }
    const leaves = leavesOf(block.submissions)
    const proofs = this.verifier.blockProofs(block.header, commit, leaves)
    // Only leaves bound to this service: an entry another service copied certifies nothing of ours.
    const indexOf = new Map<string, number>()
    let at = 0
    for (const s of block.submissions) {
      for (const entry of entriesOf(s)) {
        const k = idKey(entry)
        if (s.service === this.service && !indexOf.has(k)) indexOf.set(k, at)
        at++
      }
    }
    const tree = { leaves, proofs, indexOf }
    this.trees.set(key, tree)
    return tree
  }

  /**
   * Ask every node whether `entry` is the one anchored at (height, index), collecting valid
   * attestations of distinct validators until a quorum attests a match, a match quorum has
   * become impossible after a quorum answered, or all nodes answered. Throws
   * QuorumUnavailableError when fewer than a quorum of validators gave a valid attestation.
   */
  async verify (entry: Uint8Array, height: number, index: number, opts: CallOptions = {}): Promise<VerifyOutcome> {
    const question: VerifyRequest = { entry, height, index }
    const body = encode(question)
    const quorum = this.validators.quorum
    const byValidator = new Map<number, Attestation>()
    let matches = 0
    let outstanding = this.endpoints.length
    const local = linkedController(opts.signal, this.controller.signal)
    try {
      await settleUntil(this.endpoints.map(async node => {
        try {
          const answer = await this.ask(node, PROTOCOL.verify, body, VerifyResponseSchema, { timeoutMs: this.requestTimeoutMs, maxResponseBytes: 4 * KiB, signal: local.signal })
          if (!answer.ok) return
          const a = answer.value.attestation
          const problem = this.attestationProblem(node, a, question)
          if (problem !== undefined) return this.bad(node, PROTOCOL.verify, problem)
          if (byValidator.has(a.validator)) return
          byValidator.set(a.validator, a)
          if (a.outcome === 'match') matches++
        } finally {
          outstanding--
        }
      }), () => matches >= quorum || (byValidator.size >= quorum && matches + outstanding < quorum))
    } finally {
      local.abort()
    }
    this.throwIfStopped(opts.signal)
    if (byValidator.size < quorum) {
      throw new QuorumUnavailableError(`${byValidator.size} validators attested, quorum is ${quorum}`, { attested: byValidator.size, quorum })
    }
    const attestations = [...byValidator.values()].sort((a, b) => a.validator - b.validator)
    return { attestations, matches, quorum, anchored: mostAttested(attestations) }
  }

  private attestationProblem (node: NodeEndpoint, a: Attestation, question: VerifyRequest): string | undefined {
    // A peer id names one validator: a node may not pass off other validators' answers as its own.
    if (node.validator === undefined) return 'node is not a validator'
    if (a.validator !== node.validator) return `attestation names validator ${a.validator}, node is validator ${node.validator}`
    if (!equalBytes(a.entry, question.entry) || a.height !== question.height || a.index !== question.index) return 'attestation answers another question'
    const outcome = a.anchored === null ? 'not-found' : equalBytes(a.anchored, a.entry) ? 'match' : 'mismatch'
    if (a.outcome !== outcome) return 'attestation contradicts itself'
    if (!verifyAttestation(this.init.genesis, a)) return 'attestation signature is invalid'
    return undefined
  }

  /** One request; a network failure, a refusal or an undecodable answer becomes `{ ok: false }`. */
  private async ask<S extends z.ZodType> (
    node: NodeEndpoint, protocol: string, body: Uint8Array, schema: S,
    opts: { timeoutMs: number, maxResponseBytes: number, signal: AbortSignal }
  ): Promise<Answer<z.infer<S>>> {
    const rr = this.rr
    if (rr === undefined) return { ok: false, reason: 'STOPPED' }
    let bytes: Uint8Array
    try {
      bytes = await rr.request(node.addr, protocol, body, opts)
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'ERR_REQUEST' }
    }
    try {
      return { ok: true, value: decode(schema, bytes, opts.maxResponseBytes) }
    } catch {
      try {
        const refusal = decode(ErrorResponseSchema, bytes)
        return { ok: false, reason: refusal.error.code, message: refusal.error.message }
      } catch {
        this.bad(node, protocol, 'undecodable answer')
        return { ok: false, reason: 'GARBAGE' }
      }
    }
  }

  private bad (node: NodeEndpoint, protocol: string, reason: string): void {
    this.init.onBadAnswer?.(node.addr, protocol, reason)
  }

  private throwIfStopped (signal: AbortSignal | undefined): void {
    if (this.controller.signal.aborted || signal?.aborted === true) throw new StoppedError('request cancelled')
  }
}

/** The anchored entry named by most attestations (null counts as a value: "nothing there"). */
function mostAttested (attestations: Attestation[]): Uint8Array | null {
  const counts = new Map<string, { entry: Uint8Array | null, n: number }>()
  for (const a of attestations) {
    const k = a.anchored === null ? 'null' : toHex(a.anchored)
    const count = counts.get(k) ?? { entry: a.anchored, n: 0 }
    count.n++
    counts.set(k, count)
  }
  let best: { entry: Uint8Array | null, n: number } | undefined
  for (const count of counts.values()) if (best === undefined || count.n > best.n) best = count
  return best?.entry ?? null
}

/** The index of the genesis service named `name` whose key is the seed's; ConfigError SERVICE_NOT_REGISTERED otherwise. */
export function registeredIndex (genesis: Genesis, name: string, seed: Uint8Array): number {
  const index = genesis.services.findIndex(s => s.name === name)
  const service = genesis.services[index]
  if (service === undefined) {
    throw new ConfigError('SERVICE_NOT_REGISTERED', `the genesis registers no service named ${name}; its services are: ${genesis.services.map(s => s.name).join(', ') || 'none'}`, { path: 'serviceId' })
  }
  if (!equalBytes(service.publicKey, defaultEd25519.publicKey(seed))) {
    throw new ConfigError('SERVICE_NOT_REGISTERED', `the genesis registers service ${name} with another key than this seed's`, { path: 'seed' })
  }
  return index
}

/** Resolves when `done()` holds after one of the tasks settled, or when all have settled. Tasks never reject here. */
async function settleUntil (tasks: Array<Promise<unknown>>, done: () => boolean): Promise<void> {
  await new Promise<void>(resolve => {
    let left = tasks.length
    if (left === 0) { resolve(); return }
    for (const task of tasks) {
      void task.catch(() => {}).finally(() => {
        left--
        if (left === 0 || done()) resolve()
      })
    }
  })
}

/** An AbortController that also aborts when any of `parents` does. */
function linkedController (...parents: Array<AbortSignal | undefined>): AbortController {
  const controller = new AbortController()
  for (const parent of parents) {
    if (parent === undefined) continue
    if (parent.aborted) controller.abort()
    else parent.addEventListener('abort', () => { controller.abort() }, { once: true, signal: controller.signal })
  }
  return controller
}

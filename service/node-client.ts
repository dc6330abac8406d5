/**
 * The service's link to the trust network: one libp2p host of its own (not a validator) that
 * reaches the configured nodes over the node-api protocols. Nothing a node says is taken on
 * trust: a certificate is used only if it passes verifyCertificate against the genesis and is
 * for the record asked about, an attestation only if its validator signed it and it answers the
 * question asked; a node answering garbage is skipped. Submissions go to several nodes and
 * verifications collect a quorum of distinct validators, so f crashed or lying nodes change nothing.
 */
import '../lib/promise-shim.js'
import { setMaxListeners } from 'node:events'
import type { Startable } from '@libp2p/interface'
import { multiaddr, CODE_P2P } from '@multiformats/multiaddr'
import type { z } from 'zod'
import { CertificateVerifier, type BlockSeal } from '../consensus/certificate.js'
import { TrustnetError } from '../consensus/errors.js'
import { decode, encode, equalBytes } from '../consensus/codec.js'
import { headerHash, idKey, toHex } from '../consensus/ids.js'
import {
  CertificateResponseSchema, ErrorResponseSchema, MAX_WAIT_MS, PROTOCOL, SubmitResponseSchema, VerifyResponseSchema,
  verifyAttestation, type Attestation, type BlockProof, type CertificateRequest, type SubmitRequest, type VerifyRequest
} from '../protocol/node-api.js'
import type { Genesis, InclusionProof, LedgerRecord } from '../consensus/types.js'
import { ValidatorSet } from '../consensus/validator-set.js'
import { createHost, peerIdFromEd25519PublicKey, type Host } from '../net/host.js'
import { RequestResponse } from '../net/request-response.js'
import { BoundedMap } from '../lib/bounded-map.js'
import { NodesUnavailableError, QuorumUnavailableError, StoppedError } from './errors.js'

export interface NodeClientInit {
  genesis: Genesis
  /** Node multiaddrs, each ending in /p2p/<peerId>. */
  nodes: string[]
  /** The service's own libp2p key (32-byte ed25519 seed). */
  seed: Uint8Array
  /** Nodes each batch is sent to. @default all configured nodes */
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
  /** Nodes that acknowledged the whole batch. */
  acknowledged: number
}

export interface VerifyOutcome {
  /** Valid attestations, at most one per validator. */
  attestations: Attestation[]
  /** Attestations that say the presented hash matches the anchored one. */
  matches: number
  quorum: number
  /** The anchored hash most validators attest to (null: not on their chain). */
  anchoredHash: Uint8Array | null
}

export interface CallOptions { signal?: AbortSignal }

/** A record's place in a block whose seal (header and quorum commit) was checked: with the record, its certificate. */
export interface Placement {
  seal: BlockSeal
  proof: InclusionProof
  /** Every record id of the block, in order (checked against the header's root): what rebuilds the proof later. */
  blockIds: readonly Uint8Array[]
}
export interface CertificatesOptions extends CallOptions {
  /** How long nodes may hold the answer for records not yet committed. */
  waitMs: number
}

const KiB = 1024
const MiB = 1024 * KiB
/** Block proofs are 32 bytes per record of each block; room for a node's largest answer (100k ids). */
const MAX_CERTIFICATES_RESPONSE = 32 * MiB
/** How long the first node asked for certificates has before the others are asked too. */
const HEDGE_MS = 1500

/**
 * Blocks whose record ids were checked, remembered: the answers for one block's batches come
 * within moments of each other. Few, since each holds its Merkle tree and a proof per record:
 * under batch load, sixteen of them were most of the service's live heap.
 */
const CHECKED_BLOCKS = 4

interface CheckedBlock {
  seal: BlockSeal
  ids: readonly Uint8Array[]
  proofs: InclusionProof[]
  /** idKey(record id) -> position in the block */
  indexOf: Map<string, number>
}

/** Which of the two answers a request got: the expected body, or a node's refusal. */
type Answer<T> = { ok: true, value: T } | { ok: false, reason: string }

export class NodeClient implements Startable {
  readonly endpoints: readonly NodeEndpoint[]
  private readonly validators: ValidatorSet
  private readonly verifier: CertificateVerifier
  private readonly requestTimeoutMs: number
  private readonly submitTo: number
  private host: Host | undefined
  private rr: RequestResponse | undefined
  private controller = new AbortController()
  /** Checked trees by header hash (hex). */
  private readonly trees = new BoundedMap<string, Omit<CheckedBlock, 'seal'>>(CHECKED_BLOCKS)
  private submitRotation = 0
  private certificateRotation = 0

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

  /** Addresses of the configured nodes this client holds a connection to now (refused or lost ones are redialled). */
  connectedNodes (): string[] {
    const peers = new Set(this.host?.connectedPeers() ?? [])
    return this.endpoints.filter(e => peers.has(e.peerId)).map(e => e.addr)
  }

  async start (): Promise<void> {
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
   * Send a batch to `submitTo` nodes (rotating), resolving once f+1 of them acknowledged it (at
   * least one honest node has it) or all answered. The other requests carry on in the
   * background. Throws NodesUnavailableError when no node acknowledged.
   */
  async submit (records: LedgerRecord[], opts: CallOptions = {}): Promise<SubmitOutcome> {
    const body = encode({ records } satisfies SubmitRequest)
    const start = this.submitRotation++ % this.endpoints.length
    const targets = Array.from({ length: this.submitTo }, (_, k) => this.endpoints[(start + k) % this.endpoints.length] as NodeEndpoint)
    const enough = Math.min(this.validators.maxFaulty + 1, targets.length)
    let acknowledged = 0
    const local = linkedController(opts.signal, this.controller.signal)
    const tasks = targets.map(async node => {
      const answer = await this.ask(node, PROTOCOL.submit, body, SubmitResponseSchema, { timeoutMs: this.requestTimeoutMs, maxResponseBytes: 64 * KiB, signal: local.signal })
      if (!answer.ok) return
      if (answer.value.status.length !== records.length) return this.bad(node, PROTOCOL.submit, 'status count differs from record count')
      acknowledged++
    })
    // Requests still running when enough nodes acknowledged carry on; the link is dropped when all are done.
    void Promise.allSettled(tasks).then(() => { local.abort() })
    await settleUntil(tasks, () => acknowledged >= enough)
    this.throwIfStopped(opts.signal)
    if (acknowledged === 0) throw new NodesUnavailableError('no node accepted the batch', { nodes: targets.length })
    return { acknowledged }
  }

  /**
   * Where each of `ids` sits on chain, from whichever nodes give valid answers first: a node
   * answers with the blocks holding the ids (header, commit, every record id), each checked here
   * (the ids rebuild the header's root, a quorum signed the header) before any of its records
   * counts as certified. null for ids no node placed in time. One node is asked first (rotating):
   * every node would send the same blocks; the others are asked when it fails or has not answered
   * within HEDGE_MS. Throws NodesUnavailableError when no node answered at all.
   */
  async certificates (ids: Uint8Array[], opts: CertificatesOptions): Promise<Array<Placement | null>> {
    const waitMs = Math.min(opts.waitMs, MAX_WAIT_MS)
    const body = encode({ ids, waitMs } satisfies CertificateRequest)
    const keys = ids.map(idKey)
    // idKey(id) -> first position asked
    const wanted = new Map<string, number>()
    keys.forEach((key, i) => { if (!wanted.has(key)) wanted.set(key, i) })
    const found: Array<Placement | null> = ids.map(() => null)
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
        for (const block of answer.value.blocks) {
          let checked: CheckedBlock
          try {
            checked = this.checkedBlock(block)
          } catch (err) {
            if (!(err instanceof TrustnetError)) throw err
            this.bad(node, PROTOCOL.certificate, `block ${block.header.height}: ${err.message}`)
            continue
          }
          for (const [key, i] of wanted) {
            const at = checked.indexOf.get(key)
            if (at === undefined || found[i] !== null) continue
            found[i] = { seal: checked.seal, proof: checked.proofs[at] as InclusionProof, blockIds: checked.ids }
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
    // An id asked twice has one answer.
    return keys.map((key, i) => found[i] ?? found[wanted.get(key) as number] ?? null)
  }

  /**
   * A block proof checked and turned into per-record proofs. The tree depends on the header
   * alone (its root and record count): once ids have been checked against a header, later
   * answers for it (from other nodes, with other quorums' commits) need only their commit checked.
   */
  private checkedBlock (block: BlockProof): CheckedBlock {
    const key = toHex(headerHash(block.header))
    const seal: BlockSeal = { header: block.header, commit: block.commit }
    const tree = this.trees.get(key)
    if (tree !== undefined) {
      this.verifier.checkSeal(block.header, block.commit)
      return { seal, ...tree }
    }
    const proofs = this.verifier.blockProofs(block.header, block.commit, block.recordIds)
    const checked: CheckedBlock = { seal, ids: block.recordIds, proofs, indexOf: new Map(block.recordIds.map((id, at) => [idKey(id), at])) }
    this.trees.set(key, { ids: checked.ids, proofs: checked.proofs, indexOf: checked.indexOf })
    return checked
  }

  /**
   * Ask every node to compare `dataHash` with the hash anchored under `id`, collecting valid
   * attestations of distinct validators until a quorum attests a match, a match quorum has become
   * impossible after a quorum answered, or all nodes answered. Throws QuorumUnavailableError when
   * fewer than a quorum of validators gave a valid attestation.
   */
  async verify (id: Uint8Array, dataHash: Uint8Array, opts: CallOptions = {}): Promise<VerifyOutcome> {
    const body = encode({ id, dataHash } satisfies VerifyRequest)
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
          const problem = this.attestationProblem(node, a, id, dataHash)
          if (problem !== undefined) return this.bad(node, PROTOCOL.verify, problem)
          if (byValidator.has(a.validator)) return
          byValidator.set(a.validator, a)
          if (a.match) matches++
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
    return { attestations, matches, quorum, anchoredHash: mostAttested(attestations) }
  }

  private attestationProblem (node: NodeEndpoint, a: Attestation, id: Uint8Array, dataHash: Uint8Array): string | undefined {
    // A peer id names one validator: a node may not pass off other validators' answers as its own.
    if (node.validator === undefined) return 'node is not a validator'
    if (a.validator !== node.validator) return `attestation names validator ${a.validator}, node is validator ${node.validator}`
    if (!equalBytes(a.recordId, id) || !equalBytes(a.presentedHash, dataHash)) return 'attestation answers another question'
    const match = a.anchoredHash !== null && equalBytes(a.anchoredHash, a.presentedHash)
    if (a.match !== match) return 'attestation contradicts itself'
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
        return { ok: false, reason: refusal.error.code }
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

/** The anchored hash named by most attestations (null counts as a value: "not on chain"). */
function mostAttested (attestations: Attestation[]): Uint8Array | null {
  const counts = new Map<string, { hash: Uint8Array | null, n: number }>()
  for (const a of attestations) {
    const k = a.anchoredHash === null ? 'null' : toHex(a.anchoredHash)
    const entry = counts.get(k) ?? { hash: a.anchoredHash, n: 0 }
    entry.n++
    counts.set(k, entry)
  }
  let best: { hash: Uint8Array | null, n: number } | undefined
  for (const entry of counts.values()) if (best === undefined || entry.n > best.n) best = entry
  return best?.hash ?? null
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

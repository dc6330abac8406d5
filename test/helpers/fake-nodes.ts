/**
 * An in-process stand-in for a validator set, for testing the service before real nodes exist:
 * n libp2p hosts (real TCP, Noise, Yamux on 127.0.0.1, port 0) answering the node-api protocols
 * from one shared fake ledger. The ledger checks each submission against the genesis's services,
 * puts submitted entries into blocks at once and signs real commits with every validator's key,
 * so the blocks it hands out and its attestations are genuinely valid for its genesis. Faults on
 * demand: the ledger can pause (accept, never commit), forget its mempool (a crash) and refuse
 * submissions with a given code (for good, as BAD_SIGNATURE, or for now, as SERVICE_QUOTA); each node
 * can go down and come back on the same address, answer garbage bytes, or lie with well-formed
 * answers that are false.
 *
 *   const net = await startFakeNetwork()
 *   net.nodes[3].mode = 'lying'; net.ledger.pause(); await net.nodes[0].down(); await net.nodes[0].up()
 *   await net.stop()
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { decode, encode, equalBytes } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { ServiceSet, entriesOf, entryAt, entryCount } from '../../consensus/entries.js'
import { CodedError } from '../../lib/errors.js'
import { sha256 } from '../../consensus/hash.js'
import { chainOf, genesisHash, headerHash, toHex } from '../../consensus/ids.js'
import { toJsonText } from '../../consensus/json.js'
import {
  CertificateRequestSchema, PROTOCOL, SubmitRequestSchema, VerifyRequestSchema, signAttestation,
  type Attestation, type CertificateResponse, type ErrorResponse, type SealedBlock, type SubmitResponse, type SubmitStatus, type VerifyResponse
} from '../../protocol/node-api.js'
import { voteSignBytes } from '../../consensus/sign-bytes.js'
import { DEFAULT_PARAMS, type Block, type Commit, type Genesis, type Submission } from '../../consensus/types.js'
import { ValidatorSet } from '../../consensus/validator-set.js'
import { createHost, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'

/**
 * honest: answers from the ledger. garbage: answers random bytes. lying: well-formed and false —
 * drops submissions, hands out blocks only it signed, attests that whatever is presented matches.
 */
export type FakeNodeMode = 'honest' | 'garbage' | 'lying'

const utf8 = new TextEncoder()

export function fakeSeed (label: string, i: number): Uint8Array {
  return sha256(utf8.encode(`trustnet/test/fake-nodes/${label}/${i}`))
}

/** A service the fake network registers: its name and the seed of its key. */
export interface FakeService { name: string, seed: Uint8Array }

/** The service a fake network registers unless told otherwise (what the service harness runs as). */
export const FAKE_SERVICE: FakeService = { name: 'service-under-test', seed: new Uint8Array(32).fill(0x5e) }

export class FakeLedger {
  readonly validators: ValidatorSet
  readonly services: ServiceSet
  private readonly blocks: SealedBlock[] = []
  /** hex(entry) -> its place on chain */
  private readonly where = new Map<string, { height: number, index: number }>()
  /** Submissions taken and not yet in a block, in arrival order. */
  private mempool: Submission[] = []
  private readonly waiters = new Set<() => void>()
  private tip: ChainTip
  private paused = false
  private scheduled = false
  /** Every entry of every submission handed to the ledger, taken or not, in order of arrival. */
  readonly submitted: Uint8Array[] = []
  /** Every entry of every submission refused by refuseSubmissions, once per node answer. */
  readonly refused: Uint8Array[] = []
  private refusal: { code: string, left: number } | undefined

  constructor (readonly genesis: Genesis, readonly seeds: readonly Uint8Array[]) {
    this.validators = new ValidatorSet(genesis)
    this.services = new ServiceSet(genesis)
    this.tip = { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
  }

  get height (): number { return this.tip.height }
  /** Entries waiting in the mempool. */
  get pendingCount (): number { return this.mempool.reduce((n, s) => n + entryCount(s), 0) }

  /**
   * As a validator answers a submission: refused (UNKNOWN_SERVICE, BAD_SIGNATURE) unless a
   * registered service signed it; not taken when some of its entries are on chain already
   * (`committed` for those, `resubmit` for the rest); otherwise taken whole.
   */
  submit (submission: Submission): SubmitStatus[] {
    if (this.refusal !== undefined && this.refusal.left > 0) {
      this.refusal.left--
      this.refused.push(...entriesOf(submission).map(e => e.slice()))
      throw new CodedError(this.refusal.code, `the fake ledger refuses submissions with ${this.refusal.code}`)
    }
    this.services.check(this.genesis.chainId, submission)
    const entries = entriesOf(submission)
    this.submitted.push(...entries.map(e => e.slice()))
    const onChain = entries.map(e => this.isCommitted(e))
    if (onChain.some(Boolean)) return onChain.map(c => c ? 'committed' : 'resubmit')
    this.mempool.push(submission)
    this.schedule()
    return entries.map(() => 'pending')
  }

  /** Answer the next `times` submit requests (each node's answer counts once) with the error `code`, before any check. */
  refuseSubmissions (code: string, times = Number.POSITIVE_INFINITY): void { this.refusal = { code, left: times } }

  /** Keep accepting submissions, commit none. */
  pause (): void { this.paused = true }
  resume (): void { this.paused = false; this.schedule() }
  /** Forget everything not yet committed, as validators that all crashed would. */
  dropMempool (): void { this.mempool = [] }

  isCommitted (entry: Uint8Array): boolean { return this.where.has(toHex(entry)) }

  /** The sealed blocks holding those of `entries` that are committed, each once, as a node answers a certificate request. */
  blocksHolding (entries: Uint8Array[]): SealedBlock[] {
    const heights = new Set<number>()
    for (const e of entries) { const at = this.where.get(toHex(e)); if (at !== undefined) heights.add(at.height) }
    return [...heights].sort((a, b) => a - b).map(h => this.blocks[h - 1] as SealedBlock)
  }

  /** The entry at leaf `index` of block `height`, or null when there is none. */
  entryAt (height: number, index: number): Uint8Array | null {
    const sealed = this.blocks[height - 1]
    if (sealed === undefined) return null
    let at = index
    for (const s of sealed.block.submissions) {
      if (at < entryCount(s)) return entryAt(s, at)
      at -= entryCount(s)
    }
    return null
  }

  /** Resolves when every entry is committed, `waitMs` passed, or `signal` fired. */
  async waitForEntries (entries: Uint8Array[], waitMs: number, signal?: AbortSignal): Promise<void> {
    const ready = (): boolean => entries.every(e => this.isCommitted(e))
    if (ready() || waitMs === 0) return
    await new Promise<void>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const check = (): void => { if (ready()) done() }
      const timer = setTimeout(done, waitMs)
      signal?.addEventListener('abort', done, { once: true })
      this.waiters.add(check)
    })
  }

  /** Release every long poll (for shutdown). */
  releaseAll (): void {
    for (const w of [...this.waiters]) w()
    this.waiters.clear()
  }

  private schedule (): void {
    if (this.scheduled || this.paused || this.mempool.length === 0) return
    this.scheduled = true
    // Submissions that arrive in the same turn of the event loop share a block.
    setImmediate(() => {
      this.scheduled = false
      if (!this.paused) this.commitBlock()
    })
  }

  /** Whole submissions up to maxBlockEntries, skipping one that repeats an entry on chain or already taken. */
  private commitBlock (): void {
    const taken: Submission[] = []
    const seen = new Set<string>()
    let count = 0
    const rest: Submission[] = []
    for (const s of this.mempool) {
      const keys = entriesOf(s).map(toHex)
      if (keys.some(k => this.where.has(k) || seen.has(k))) continue
      if (count + keys.length > this.genesis.params.maxBlockEntries) { rest.push(s); continue }
      for (const k of keys) seen.add(k)
      count += keys.length
      taken.push(s)
    }
    this.mempool = rest
    if (taken.length === 0) return
    const height = this.tip.height + 1
    const block = buildBlock(chainOf(this.genesis), this.tip, this.validators.proposer(height, 0), Date.now(), taken)
    const commit = signedCommit(this.genesis, this.seeds, block)
    this.blocks.push({ block, commit })
    let index = 0
    for (const s of taken) for (const e of entriesOf(s)) this.where.set(toHex(e), { height, index: index++ })
    this.tip = { height, hash: commit.blockHash, time: block.header.time }
    for (const w of [...this.waiters]) w()
    this.schedule()
  }
}

/** A commit of `block` at round 0 signed by every one of `seeds` (validators 0..n-1). */
function signedCommit (genesis: Genesis, seeds: readonly Uint8Array[], block: Block): Commit {
  const blockHash = headerHash(block.header)
  const message = voteSignBytes(genesis.chainId, 'precommit', block.header.height, 0, blockHash)
  const signatures = seeds.map((seed, validator) => ({ validator, signature: defaultEd25519.sign(seed, message) }))
  return { height: block.header.height, round: 0, blockHash, signatures }
}

export class FakeNode {
  mode: FakeNodeMode = 'honest'
  /** Requests answered, by protocol (whatever the mode). */
  readonly served = new Map<string, number>()
  private host: Host | undefined
  private port = 0
  private address = ''
  /** Submissions a lying node kept for itself instead of passing them on. */
  private readonly kept: Submission[] = []

  constructor (readonly index: number, readonly seed: Uint8Array, readonly ledger: FakeLedger) {}

  /** Multiaddr with /p2p/<peerId>; the same across down() and up(). */
  get addr (): string { return this.address }
  get isUp (): boolean { return this.host !== undefined }

  async up (): Promise<void> {
    if (this.host !== undefined) return
    const host = await createHost({ privateKeySeed: this.seed, listen: [`/ip4/127.0.0.1/tcp/${this.port}`] })
    this.host = host
    const addr = host.multiaddrs().find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
    if (addr === undefined) throw new Error('fake node has no TCP address')
    this.address = addr
    this.port = Number(addr.split('/')[4])
    const rr = new RequestResponse(host.node)
    await rr.handle(PROTOCOL.submit, this.answer(PROTOCOL.submit, async req => await this.submit(req)), { maxRequestBytes: 2 * 1024 * 1024 })
    await rr.handle(PROTOCOL.certificate, this.answer(PROTOCOL.certificate, async (req, signal) => await this.certificates(req, signal)), { maxRequestBytes: 2 * 1024 * 1024, timeoutMs: 40_000 })
    await rr.handle(PROTOCOL.verify, this.answer(PROTOCOL.verify, async req => await this.verify(req)), { maxRequestBytes: 1024 })
  }

  /** Stop listening and drop every connection; up() comes back on the same address. */
  async down (): Promise<void> {
    const host = this.host
    this.host = undefined
    await host?.stop()
  }

  private answer (protocol: string, handler: (req: Uint8Array, signal: AbortSignal) => Promise<unknown>) {
    return async (req: Uint8Array, _from: string, opts: { signal: AbortSignal }): Promise<Uint8Array> => {
      this.served.set(protocol, (this.served.get(protocol) ?? 0) + 1)
      if (this.mode === 'garbage') return new Uint8Array(randomBytes(48))
      try {
        return encode(await handler(req, opts.signal))
      } catch (err) {
        const body: ErrorResponse = { error: { code: err instanceof CodedError ? err.code : 'INTERNAL', message: (err as Error).message.slice(0, 1000) } }
        return encode(body)
      }
    }
  }

  private async submit (req: Uint8Array): Promise<SubmitResponse> {
    const { submission } = decode(SubmitRequestSchema, req)
    if (this.mode === 'lying') {
      this.kept.push(submission)
      return { status: entriesOf(submission).map(() => 'pending' as const) }
    }
    return { status: this.ledger.submit(submission) }
  }

  private async certificates (req: Uint8Array, signal: AbortSignal): Promise<CertificateResponse> {
    const { entries: packed, waitMs } = decode(CertificateRequestSchema, req)
    const entries = entriesOf({ entries: packed })
    if (this.mode === 'lying') return { blocks: this.forgedBlocks(entries) }
    await this.ledger.waitForEntries(entries, waitMs, signal)
    return { blocks: this.ledger.blocksHolding(entries) }
  }

  private async verify (req: Uint8Array): Promise<VerifyResponse> {
    const { entry, height, index } = decode(VerifyRequestSchema, req)
    // A liar claims whatever is presented is anchored there.
    const anchored = this.mode === 'lying' ? entry : this.ledger.entryAt(height, index)
    const attestation: Omit<Attestation, 'signature'> = {
      chainId: this.ledger.genesis.chainId,
      entry,
      height,
      index,
      anchored,
      outcome: anchored === null ? 'not-found' : equalBytes(anchored, entry) ? 'match' : 'mismatch',
      validator: this.index,
      time: Date.now()
    }
    return { attestation: signAttestation(attestation, this.seed) }
  }

  /** A block of its own holding the submissions it kept, "committed" by its signature alone. */
  private forgedBlocks (entries: Uint8Array[]): SealedBlock[] {
    const wanted = new Set(entries.map(toHex))
    const submissions = this.kept.filter(s => entriesOf(s).some(e => wanted.has(toHex(e))))
    if (submissions.length === 0) return []
    const genesis = this.ledger.genesis
    const tip = { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
    const block = buildBlock(chainOf(genesis), tip, this.index, Date.now(), submissions)
    const blockHash = headerHash(block.header)
    const signature = defaultEd25519.sign(this.seed, voteSignBytes(genesis.chainId, 'precommit', 1, 0, blockHash))
    // Padded with made-up signatures of other validators to look like a quorum.
    const signatures = this.ledger.genesis.validators.map((_, validator) =>
      ({ validator, signature: validator === this.index ? signature : new Uint8Array(randomBytes(64)) }))
    return [{ block, commit: { height: 1, round: 0, blockHash, signatures } }]
  }
}

export interface FakeNetwork {
  genesis: Genesis
  ledger: FakeLedger
  nodes: FakeNode[]
  /** Multiaddrs of all nodes, for the service config. */
  addrs(): string[]
  /** Write the genesis in its JSON form (what a service reads from genesisPath). */
  writeGenesis(path: string): Promise<void>
  stop(): Promise<void>
}

export interface FakeNetworkOptions {
  validators?: number
  chainId?: string
  /** Key label; distinct labels give disjoint validator keys. @default 'fake' */
  label?: string
  /** Registered services. @default [FAKE_SERVICE] */
  services?: FakeService[]
}

export async function startFakeNetwork (options: FakeNetworkOptions = {}): Promise<FakeNetwork> {
  const n = options.validators ?? 4
  const label = options.label ?? 'fake'
  const seeds = Array.from({ length: n }, (_, i) => fakeSeed(label, i))
  const genesis: Genesis = {
    chainId: options.chainId ?? 'trustnet-fake',
    genesisTime: 1_700_000_000_000,
    validators: seeds.map((s, i) => ({ name: `fake${i}`, publicKey: defaultEd25519.publicKey(s) })),
    services: (options.services ?? [FAKE_SERVICE]).map(s => ({ name: s.name, publicKey: defaultEd25519.publicKey(s.seed) })),
    params: DEFAULT_PARAMS
  }
  const ledger = new FakeLedger(genesis, seeds)
  const nodes = seeds.map((s, i) => new FakeNode(i, s, ledger))
  const stop = async (): Promise<void> => {
    ledger.releaseAll()
    await Promise.allSettled(nodes.map(async node => { await node.down() }))
  }
  try {
    await Promise.all(nodes.map(async node => { await node.up() }))
  } catch (err) {
    await stop()
    throw err
  }
  return {
    genesis,
    ledger,
    nodes,
    addrs: () => nodes.map(node => node.addr),
    writeGenesis: async path => { await writeFile(path, toJsonText(genesis)) },
    stop
  }
}

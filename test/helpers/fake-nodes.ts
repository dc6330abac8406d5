/**
 * An in-process stand-in for a validator set, for testing the service before real nodes exist:
 * n libp2p hosts (real TCP, Noise, Yamux on 127.0.0.1, port 0) answering the node-api protocols
 * from one shared fake ledger. The ledger puts submitted records into blocks at once and signs
 * real commits with every validator's key, so its certificates and attestations are genuinely
 * valid for its genesis. Faults on demand: the ledger can pause (accept, never commit) and forget
 * its mempool (a crash); each node can go down and come back on the same address, answer
 * garbage bytes, or lie with well-formed answers that are false.
 *
 *   const net = await startFakeNetwork()
 *   net.nodes[3].mode = 'lying'; net.ledger.pause(); await net.nodes[0].down(); await net.nodes[0].up()
 *   await net.stop()
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { buildCertificate } from '../../consensus/certificate.js'
import { decode, encode, equalBytes } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { TrustnetError } from '../../consensus/errors.js'
import { sha256 } from '../../consensus/hash.js'
import { genesisHash, headerHash, recordId, toHex } from '../../consensus/ids.js'
import { toJsonText } from '../../consensus/json.js'
import {
  CertificateRequestSchema, PROTOCOL, SubmitRequestSchema, VerifyRequestSchema, signAttestation,
  type Attestation, type BlockProof, type CertificateResponse, type ErrorResponse, type SubmitResponse, type VerifyResponse
} from '../../protocol/node-api.js'
import { voteSignBytes } from '../../consensus/sign-bytes.js'
import { DEFAULT_PARAMS, type Block, type Certificate, type Commit, type Genesis, type LedgerRecord } from '../../consensus/types.js'
import { ValidatorSet } from '../../consensus/validator-set.js'
import { createHost, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'

/**
 * honest: answers from the ledger. garbage: answers random bytes. lying: well-formed and false —
 * drops submissions, hands out certificates only it signed, attests that whatever is presented matches.
 */
export type FakeNodeMode = 'honest' | 'garbage' | 'lying'

const utf8 = new TextEncoder()

export function fakeSeed (label: string, i: number): Uint8Array {
  return sha256(utf8.encode(`trustnet/test/fake-nodes/${label}/${i}`))
}

export class FakeLedger {
  readonly validators: ValidatorSet
  private readonly blocks: Array<{ block: Block, commit: Commit }> = []
  private readonly where = new Map<string, { height: number, index: number }>()
  private readonly certificates = new Map<string, Certificate>()
  private readonly mempool = new Map<string, LedgerRecord>()
  private readonly waiters = new Set<() => void>()
  private tip: ChainTip
  private paused = false
  private scheduled = false
  /** Every record ever handed to the ledger, in order of arrival (duplicates included). */
  readonly submissions: LedgerRecord[] = []

  constructor (readonly genesis: Genesis, readonly seeds: readonly Uint8Array[]) {
    this.validators = new ValidatorSet(genesis)
    this.tip = { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
  }

  get height (): number { return this.tip.height }
  get pendingCount (): number { return this.mempool.size }

  submit (records: LedgerRecord[]): SubmitResponse['status'] {
    this.submissions.push(...records)
    const status = records.map(r => {
      const id = toHex(recordId(r))
      if (this.where.has(id)) return 'committed' as const
      this.mempool.set(id, r)
      return 'pending' as const
    })
    this.schedule()
    return status
  }

  /** Keep accepting records, commit none. */
  pause (): void { this.paused = true }
  resume (): void { this.paused = false; this.schedule() }
  /** Forget everything not yet committed, as validators that all crashed would. */
  dropMempool (): void { this.mempool.clear() }

  isCommitted (id: Uint8Array): boolean { return this.where.has(toHex(id)) }

  certificate (id: Uint8Array): Certificate | null {
    const key = toHex(id)
    const cached = this.certificates.get(key)
    if (cached !== undefined) return cached
    const at = this.where.get(key)
    if (at === undefined) return null
    const { block, commit } = this.blocks[at.height - 1] as { block: Block, commit: Commit }
    const cert = buildCertificate(block, commit, at.index)
    this.certificates.set(key, cert)
    return cert
  }

  /** The blocks holding those of `ids` that are committed, each once, as a node answers a certificate request. */
  blockProofs (ids: Uint8Array[]): BlockProof[] {
    const heights = new Set<number>()
    for (const id of ids) { const at = this.where.get(toHex(id)); if (at !== undefined) heights.add(at.height) }
    return [...heights].sort((a, b) => a - b).map(h => {
      const { block, commit } = this.blocks[h - 1] as { block: Block, commit: Commit }
      return { header: block.header, commit, recordIds: block.records.map(recordId) }
    })
  }

  anchored (id: Uint8Array): { dataHash: Uint8Array, height: number } | undefined {
    const at = this.where.get(toHex(id))
    if (at === undefined) return undefined
    const record = this.blocks[at.height - 1]?.block.records[at.index] as LedgerRecord
    return { dataHash: record.dataHash, height: at.height }
  }

  /** Resolves when every id is committed, `waitMs` passed, or `signal` fired. */
  async waitForRecords (ids: Uint8Array[], waitMs: number, signal?: AbortSignal): Promise<void> {
    const ready = (): boolean => ids.every(id => this.isCommitted(id))
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
    if (this.scheduled || this.paused || this.mempool.size === 0) return
    this.scheduled = true
    // Records submitted in the same turn of the event loop share a block.
    setImmediate(() => {
      this.scheduled = false
      if (!this.paused) this.commitBlock()
    })
  }

  private commitBlock (): void {
    const records = [...this.mempool.values()].slice(0, this.genesis.params.maxBlockRecords)
    if (records.length === 0) return
    const height = this.tip.height + 1
    const block = buildBlock(this.genesis.chainId, this.tip, this.validators.proposer(height, 0), Date.now(), records)
    const blockHash = headerHash(block.header)
    const message = voteSignBytes(this.genesis.chainId, 'precommit', height, 0, blockHash)
    const signatures = this.seeds.map((seed, validator) => ({ validator, signature: defaultEd25519.sign(seed, message) }))
    this.blocks.push({ block, commit: { height, round: 0, blockHash, signatures } })
    records.forEach((r, index) => {
      const id = toHex(recordId(r))
      this.where.set(id, { height, index })
      this.mempool.delete(id)
    })
    this.tip = { height, hash: blockHash, time: block.header.time }
    for (const w of [...this.waiters]) w()
    this.schedule()
  }
}

export class FakeNode {
  mode: FakeNodeMode = 'honest'
  /** Requests answered, by protocol (whatever the mode). */
  readonly served = new Map<string, number>()
  private host: Host | undefined
  private port = 0
  private address = ''
  /** Records a lying node kept for itself instead of passing them on. */
  private readonly kept = new Map<string, LedgerRecord>()

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
        const body: ErrorResponse = { error: { code: err instanceof TrustnetError ? err.code : 'INTERNAL', message: (err as Error).message.slice(0, 1000) } }
        return encode(body)
      }
    }
  }

  private async submit (req: Uint8Array): Promise<SubmitResponse> {
    const { records } = decode(SubmitRequestSchema, req)
    if (this.mode === 'lying') {
      for (const r of records) this.kept.set(toHex(recordId(r)), r)
      return { status: records.map(() => 'pending' as const) }
    }
    return { status: this.ledger.submit(records) }
  }

  private async certificates (req: Uint8Array, signal: AbortSignal): Promise<CertificateResponse> {
    const { ids, waitMs } = decode(CertificateRequestSchema, req)
    if (this.mode === 'lying') return { blocks: this.forgedBlocks(ids) }
    await this.ledger.waitForRecords(ids, waitMs, signal)
    return { blocks: this.ledger.blockProofs(ids) }
  }

  private async verify (req: Uint8Array): Promise<VerifyResponse> {
    const { id, dataHash } = decode(VerifyRequestSchema, req)
    const anchored = this.ledger.anchored(id)
    const lie = this.mode === 'lying'
    const anchoredHash = lie ? dataHash : anchored?.dataHash ?? null
    const attestation: Omit<Attestation, 'signature'> = {
      chainId: this.ledger.genesis.chainId,
      recordId: id,
      presentedHash: dataHash,
      anchoredHash,
      match: anchoredHash !== null && equalBytes(anchoredHash, dataHash),
      height: lie ? (anchored?.height ?? 1) : anchored?.height ?? null,
      validator: this.index,
      time: Date.now()
    }
    return { attestation: signAttestation(attestation, this.seed) }
  }

  /** A block of its own holding the records (those it ever saw), "committed" by its signature alone. */
  private forgedBlocks (ids: Uint8Array[]): BlockProof[] {
    const records = ids.flatMap(id => { const r = this.kept.get(toHex(id)) ?? this.ledger.certificate(id)?.record; return r === undefined ? [] : [r] })
    if (records.length === 0) return []
    const genesis = this.ledger.genesis
    const tip = { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
    const block = buildBlock(genesis.chainId, tip, this.index, Date.now(), records)
    const blockHash = headerHash(block.header)
    const signature = defaultEd25519.sign(this.seed, voteSignBytes(genesis.chainId, 'precommit', 1, 0, blockHash))
    // Padded with made-up signatures of other validators to look like a quorum.
    const signatures = this.ledger.genesis.validators.map((_, validator) =>
      ({ validator, signature: validator === this.index ? signature : new Uint8Array(randomBytes(64)) }))
    return [{ header: block.header, commit: { height: 1, round: 0, blockHash, signatures }, recordIds: records.map(recordId) }]
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
}

export async function startFakeNetwork (options: FakeNetworkOptions = {}): Promise<FakeNetwork> {
  const n = options.validators ?? 4
  const label = options.label ?? 'fake'
  const seeds = Array.from({ length: n }, (_, i) => fakeSeed(label, i))
  const genesis: Genesis = {
    chainId: options.chainId ?? 'trustnet-fake',
    genesisTime: 1_700_000_000_000,
    validators: seeds.map((s, i) => ({ name: `fake${i}`, publicKey: defaultEd25519.publicKey(s) })),
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

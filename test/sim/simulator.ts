/**
 * The deterministic network simulator. Every validator is a real consensus Machine; messages
 * travel as canonical bytes over a virtual network that delays, drops, duplicates, reorders and
 * partitions them; time is virtual. Services submit signed submissions of entries. Invariants
 * are checked at every commit (agreement, quorum signatures, no entry twice, every submission
 * signed by the registered service its leaves name) and at the end (every honest node has the
 * same chain holding every submitted entry exactly once).
 */
import { blockProblem } from '../../consensus/block.js'
import { verifyCommit } from '../../consensus/commit.js'
import { defaultEd25519, type Ed25519 } from '../../consensus/ed25519.js'
import { TrustnetError } from '../../consensus/errors.js'
import { entriesOf, packEntries, ServiceSet, signSubmission } from '../../consensus/entries.js'
import { chainOf, genesisHash, headerHash, toHex } from '../../consensus/ids.js'
import { Machine, type Action, type Input, type Timeout } from '../../consensus/machine.js'
import { decodeMessage, encodeMessage } from '../../consensus/messages.js'
import { taggedHash } from '../../consensus/hash.js'
import type { Block, Commit, ConsensusMessage, ConsensusParams, Submission } from '../../consensus/types.js'
import { ValidatorSet } from '../../consensus/validator-set.js'
import { Rng } from '../../lib/rng.js'
import { makeNetwork, makeSubmission, type TestNetwork } from '../helpers/fixtures.js'
import { machineDigest } from '../helpers/machine-digest.js'
import { misbehave, type LiarContext } from './byzantine.js'
import { EventQueue } from './event-queue.js'
import { describeScenario, type Behaviour, type Scenario } from './scenario.js'

type SimEvent =
  | { kind: 'deliver', to: number, from: number, bytes: Uint8Array }
  | { kind: 'timeout', node: number, incarnation: number, timeout: Timeout }
  | { kind: 'submit', node: number, submission: Submission }
  | { kind: 'crash', node: number }
  | { kind: 'restart', node: number }
  | { kind: 'check' }
  /** The services' outboxes: entries not yet on chain are submitted again, as a real service does after a timeout. */
  | { kind: 'resubmit' }

interface SimNode {
  index: number
  seed: Uint8Array
  machine: Machine
  behaviour?: Behaviour
  faultyFrom: number
  alive: boolean
  chain: Array<{ block: Block, commit: Commit, hash: Uint8Array }>
  /** Hex entries on its chain. */
  committed: Set<string>
  /** What the node wrote to its disk at the current height (its write-ahead log). */
  persisted: ConsensusMessage[]
  /** Bumped on restart: timers of a dead process never fire in the new one. */
  incarnation: number
}

export interface SimResult {
  ok: boolean
  scenario: string
  failure?: string
  virtualMs: number
  heights: number[]
  committedEntries: number
  submittedEntries: number
  stats: SimStats
  trace: string[]
}

export interface SimStats {
  delivered: number
  dropped: number
  refused: number
  evidence: number
  syncs: number
  rounds: number
  /** The highest round any honest node reached. */
  maxRound: number
  /** Proposals of liars holding entries already on chain, sent; and delivered to honest nodes one height behind (buffered). */
  replays: number
  replaysBuffered: number
  /** Proposals of liars holding a submission no registered service signed as it stands. */
  forgeries: number
}

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation'
}

/** Signature checks memoised across the simulated nodes (they verify the very same bytes); each is still really checked once. */
function memoEd25519 (inner: Ed25519): Ed25519 {
  const cache = new Map<string, boolean>()
  return {
    name: `memo(${inner.name})`,
    publicKey: seed => inner.publicKey(seed),
    sign: (seed, m) => inner.sign(seed, m),
    verify (key, m, sig) {
      const id = `${toHex(key)}${toHex(sig)}${toHex(taggedHash('memo', m))}`
      let ok = cache.get(id)
      if (ok === undefined) {
        ok = inner.verify(key, m, sig)
        if (cache.size > 200_000) cache.clear()
        cache.set(id, ok)
      }
      return ok
    }
  }
}

const RESUBMIT_MS = 3000

export const SIM_PARAMS = {
  maxBlockEntries: 16,
  maxMempoolEntries: 10_000,
  timeoutProposeMs: 300,
  timeoutVoteMs: 200,
  timeoutDeltaMs: 150,
  rebroadcastMs: 500,
  maxClockDriftMs: 5_000,
  maxBlockTimeLagMs: 30_000,
  // Heights right after a commit gather entries first: timers the adversarial schedules must cover too.
  minBlockIntervalMs: 50
}

/** Services registered in the simulated genesis: submissions alternate between them. */
export const SIM_SERVICES = 2

/** The simulated network: n validators and SIM_SERVICES services, keys from fixed seeds. */
export function simNetwork (n: number, params: Partial<ConsensusParams> = {}): TestNetwork {
  return makeNetwork(n, { chainId: 'sim-chain', genesisTime: 0, keyLabel: 'sim/validator', services: SIM_SERVICES, params: { ...SIM_PARAMS, ...params } })
}

export function runScenario (scenario: Scenario, options: { traceAll?: boolean, maxEvents?: number } = {}): SimResult {
  const sim = new Simulation(scenario, options.traceAll ?? false)
  try {
    sim.run(options.maxEvents ?? 3_000_000)
  } catch (err) {
    return sim.result(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
  }
  return sim.result()
}

class Simulation {
  private readonly rng: Rng
  private readonly queue = new EventQueue<SimEvent>()
  private readonly nodes: SimNode[]
  private readonly net: TestNetwork
  private readonly genesis: TestNetwork['genesis']
  private readonly checker: ValidatorSet
  private readonly services: ServiceSet
  private readonly ed = memoEd25519(defaultEd25519)
  private readonly decided = new Map<number, string>()
  /** Hex entries submitted so far. */
  private readonly submitted = new Set<string>()
  /** Every submission the services made, in order: what their outboxes resubmit. */
  private readonly submissions: Submission[] = []
  private readonly trace: string[] = []
  private readonly stats: SimStats = { delivered: 0, dropped: 0, refused: 0, evidence: 0, syncs: 0, rounds: 0, maxRound: 0, replays: 0, replaysBuffered: 0, forgeries: 0 }
  /** Every block proposed, by hash: liars build on blocks they saw, and honest prevotes are checked against them. */
  private readonly blocks = new Map<string, Block>()
  private readonly settleBy: number
  private now = 0
  private done = false

  constructor (private readonly scenario: Scenario, private readonly traceAll: boolean) {
    this.rng = new Rng(scenario.seed ^ 0x5eed)
    this.net = simNetwork(scenario.n, scenario.params)
    const { seeds, genesis } = this.net
    this.genesis = genesis
    this.checker = new ValidatorSet(genesis)
    this.services = new ServiceSet(genesis)
    // Broken consistently, commit checks included, so that only the agreement invariant is left to notice.
    if (scenario.brokenQuorum === true) Object.defineProperty(this.checker, 'quorum', { value: this.checker.maxFaulty + 1 })
    const tip = { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
    this.nodes = seeds.map((seed, index) => {
      const fault = scenario.faulty.find(f => f.index === index)
      const committed = new Set<string>()
      const machine = new Machine({ genesis, self: { index, seed }, tip, ed: this.ed, isCommitted: id => committed.has(toHex(id)) })
      if (scenario.brokenQuorum === true) Object.defineProperty(machine.validators, 'quorum', { value: machine.validators.maxFaulty + 1 })
      return { index, seed, machine, behaviour: fault?.behaviour, faultyFrom: fault?.at ?? Infinity, alive: true, chain: [], committed, persisted: [], incarnation: 0 }
    })
    let lastDisruption = 0
    for (const f of scenario.faulty) {
      if (f.behaviour === 'crash') this.queue.push(f.at, { kind: 'crash', node: f.index })
      lastDisruption = Math.max(lastDisruption, f.at)
    }
    for (const p of [...scenario.partitions, ...scenario.proposalLoss ?? []]) lastDisruption = Math.max(lastDisruption, p.to)
    for (const r of scenario.restarts) {
      this.queue.push(r.at, { kind: 'crash', node: r.node })
      this.queue.push(r.at + r.downMs, { kind: 'restart', node: r.node })
      lastDisruption = Math.max(lastDisruption, r.at + r.downMs)
    }
    let counter = 0
    scenario.submissions.forEach((s, i) => {
      const entries = Array.from({ length: s.count }, () => simEntry(scenario.seed, counter++))
      for (const e of entries) this.submitted.add(toHex(e))
      this.queue.push(s.at, { kind: 'submit', node: s.node, submission: makeSubmission(this.net, entries, i % SIM_SERVICES) })
      lastDisruption = Math.max(lastDisruption, s.at)
    })
    this.settleBy = lastDisruption + scenario.settleMs
    this.queue.push(lastDisruption, { kind: 'check' })
    this.queue.push(RESUBMIT_MS, { kind: 'resubmit' })
  }

  run (maxEvents: number): void {
    for (const node of this.nodes) this.input(node, { type: 'start' })
    let events = 0
    while (!this.done) {
      const next = this.queue.pop()
      if (next === undefined) throw new Error('event queue ran dry')
      this.now = next.at
      if (this.now > this.settleBy) throw new Error(`liveness: not settled ${this.scenario.settleMs} ms after the last disruption (${this.progress()})`)
      if (++events > maxEvents) throw new Error(`runaway: more than ${maxEvents} events (${this.progress()})`)
      this.handle(next.event)
    }
  }

  private handle (e: SimEvent): void {
    switch (e.kind) {
      case 'deliver': return this.deliver(e.to, e.from, e.bytes)
      case 'timeout': {
        const node = this.nodes[e.node] as SimNode
        if (node.alive && node.incarnation === e.incarnation) this.input(node, { type: 'timeout', timeout: e.timeout })
        return
      }
      case 'submit':
        this.submissions.push(e.submission)
        if ((this.nodes[e.node] as SimNode).alive) this.input(this.nodes[e.node] as SimNode, { type: 'submit', submissions: [e.submission] })
        return
      case 'crash':
        (this.nodes[e.node] as SimNode).alive = false
        this.log(`v${e.node} crashes`)
        return
      case 'restart': return this.restart(this.nodes[e.node] as SimNode)
      case 'check': return this.check()
      case 'resubmit': return this.resubmit()
    }
  }

  /** A new process on the same disk: the committed chain and the write-ahead log of the current height. */
  private restart (node: SimNode): void {
    const last = node.chain[node.chain.length - 1]
    const tip = last === undefined
      ? { height: 0, hash: genesisHash(this.genesis), time: this.genesis.genesisTime }
      : { height: last.block.header.height, hash: last.hash, time: last.block.header.time }
    node.machine = new Machine({ genesis: this.genesis, self: { index: node.index, seed: node.seed }, tip, ed: this.ed, isCommitted: id => node.committed.has(toHex(id)) })
    node.machine.restore(node.persisted)
    node.incarnation++
    node.alive = true
    this.log(`v${node.index} restarts at height ${tip.height + 1} with ${node.persisted.length} persisted messages`)
    this.input(node, { type: 'start' })
  }

  private deliver (to: number, from: number, bytes: Uint8Array): void {
    const node = this.nodes[to] as SimNode
    if (!node.alive) return
    this.stats.delivered++
    const sender = this.nodes[from] as SimNode
    const senderLies = sender.behaviour !== undefined && sender.behaviour !== 'crash'
    let message: ConsensusMessage
    try {
      message = decodeMessage(bytes)
    } catch (err) {
      if (!(err instanceof TrustnetError)) throw err
      if (!senderLies) throw new SafetyViolation(`v${to} refused bytes from honest v${from}: ${err.code}`)
      this.stats.refused++
      return
    }
    if (message.type === 'proposal' && message.proposal.height === node.machine.height + 1 && this.isReplay(message.proposal.block, sender)) this.stats.replaysBuffered++
    if (this.traceAll && message.type === 'proposal' && message.proposal.height === node.machine.height) {
      const problem = blockProblem(message.proposal.block, { ...chainOf(this.genesis), tip: node.machine.lastCommitted, params: this.genesis.params, validators: this.scenario.n, now: this.now, isCommitted: e => node.committed.has(toHex(e)), checkSubmission: s => { this.services.check(this.genesis.chainId, s, this.ed) } })
      if (problem !== undefined) this.log(`v${to} finds proposal h${message.proposal.height} r${message.proposal.round} invalid: ${problem}`)
    }
    const before = senderLies ? machineDigest(node.machine) : undefined
    try {
      this.input(node, { type: 'message', message })
    } catch (err) {
      if (!(err instanceof TrustnetError)) throw err
      if (!senderLies) throw new SafetyViolation(`v${to} refused a message from honest v${from}: ${err.code} ${err.message}`)
      if (before !== undefined && machineDigest(node.machine) !== before) throw new SafetyViolation(`v${to} changed state on refused input ${err.code}`)
      this.stats.refused++
    }
  }

  private input (node: SimNode, input: Input): void {
    const round = node.machine.currentRound
    const actions = node.machine.step(input, this.now)
    if (node.machine.currentRound > round) this.stats.rounds++
    if (!this.isFaulty(node)) this.stats.maxRound = Math.max(this.stats.maxRound, node.machine.currentRound)
    if (this.traceAll) {
      for (const a of actions) {
        if (a.type === 'broadcast' && a.message.type === 'vote') {
          const v = a.message.vote
          this.log(`v${node.index} ${v.type} h${v.height} r${v.round} ${v.blockHash === null ? 'nil' : toHex(v.blockHash).slice(0, 8)}`)
        } else if (a.type === 'broadcast' && a.message.type === 'proposal') {
          const p = a.message.proposal
          this.log(`v${node.index} proposes h${p.height} r${p.round} vr${p.validRound} ${toHex(headerHash(p.block.header)).slice(0, 8)}`)
        } else if (a.type === 'sync-needed') this.log(`v${node.index} sync-needed h${a.height} from v${a.from}`)
      }
    }
    for (const a of actions) this.act(node, a)
  }

  private act (node: SimNode, a: Action): void {
    switch (a.type) {
      case 'broadcast':
        if (!this.isFaulty(node)) this.checkHonestPrevote(node, a.message)
        return this.broadcast(node, a.message)
      case 'persist':
        node.persisted.push(a.message)
        return
      case 'schedule': return this.queue.push(this.now + a.afterMs, { kind: 'timeout', node: node.index, incarnation: node.incarnation, timeout: a.timeout })
      case 'commit': return this.commit(node, a.block, a.commit)
      case 'sync-needed': return this.serveSync(node.index, a.from, a.height)
      case 'evidence':
        this.stats.evidence++
        if (!this.isFaulty(this.nodes[a.evidence.validator] as SimNode)) throw new SafetyViolation(`evidence against honest v${a.evidence.validator}`)
    }
  }

  /** An honest validator never prevotes a block holding an entry already on its chain, nor a submission no registered service signed. */
  private checkHonestPrevote (node: SimNode, message: ConsensusMessage): void {
    if (message.type !== 'vote' || message.vote.type !== 'prevote' || message.vote.blockHash === null) return
    const block = this.blocks.get(toHex(message.vote.blockHash))
    if (block === undefined) return
    const twice = block.submissions.flatMap(entriesOf).find(e => node.committed.has(toHex(e)))
    if (twice !== undefined) throw new SafetyViolation(`v${node.index} prevoted block h${message.vote.height} r${message.vote.round} holding entry ${toHex(twice).slice(0, 8)}, already on its chain`)
    if (this.forged(block)) throw new SafetyViolation(`v${node.index} prevoted block h${message.vote.height} r${message.vote.round} holding a submission no registered service signed`)
  }

  /** Whether a liar's block holds an entry that `liar` has on its chain (the liar knows it is committed). */
  private isReplay (block: Block, liar: SimNode): boolean {
    return this.isFaulty(liar) && block.submissions.some(s => entriesOf(s).some(e => liar.committed.has(toHex(e))))
  }

  /** Whether a block holds a submission that does not verify against the genesis services. */
  private forged (block: Block): boolean {
    return block.submissions.some(s => {
      try {
        this.services.check(this.genesis.chainId, s, this.ed)
        return false
      } catch (err) {
        if (err instanceof TrustnetError) return true
        throw err
      }
    })
  }

  private broadcast (node: SimNode, message: ConsensusMessage): void {
    const peers = this.nodes.filter(p => p.index !== node.index).map(p => p.index)
    const lying = node.behaviour !== undefined && node.behaviour !== 'crash' && this.now >= node.faultyFrom
    if (message.type === 'proposal') this.blocks.set(toHex(headerHash(message.proposal.block.header)), message.proposal.block)
    const outgoing = lying
      ? misbehave(node.behaviour as Behaviour, this.liarContext(node, peers), message)
      : [{ to: peers, bytes: encodeMessage(message) }]
    for (const o of outgoing) {
      if (lying) this.noteLiarProposal(node, o.bytes)
      for (const to of o.to) this.send(node.index, to, o.bytes)
    }
  }

  /** Blocks liars make up are known by hash too; those re-proposing committed entries or holding forged submissions are counted. */
  private noteLiarProposal (liar: SimNode, bytes: Uint8Array): void {
    let message: ConsensusMessage
    try { message = decodeMessage(bytes) } catch { return }
    if (message.type !== 'proposal') return
    this.blocks.set(toHex(headerHash(message.proposal.block.header)), message.proposal.block)
    if (this.isReplay(message.proposal.block, liar)) this.stats.replays++
    if (this.forged(message.proposal.block)) this.stats.forgeries++
  }

  private liarContext (node: SimNode, peers: number[]): LiarContext {
    const old = node.chain.find(c => c.block.submissions.length > 0)?.block.submissions[0]
    return {
      rng: this.rng,
      chainId: this.genesis.chainId,
      index: node.index,
      seed: node.seed,
      peers,
      n: this.scenario.n,
      maxEntries: this.genesis.params.maxBlockEntries,
      services: this.genesis.services.length,
      chain: node.chain.map(c => c.block),
      block: hash => this.blocks.get(toHex(hash)),
      ...(old !== undefined ? { oldSubmission: old } : {})
    }
  }

  private send (from: number, to: number, bytes: Uint8Array): void {
    const net = this.scenario.network
    if (this.cut(from, to) || this.rng.chance(net.drop) || this.proposalLost(bytes)) { this.stats.dropped++; return }
    this.queue.push(this.now + this.rng.int(net.minDelayMs, net.maxDelayMs), { kind: 'deliver', to, from, bytes })
    if (this.rng.chance(net.duplicate)) this.queue.push(this.now + this.rng.int(net.minDelayMs, net.maxDelayMs * 2), { kind: 'deliver', to, from, bytes })
  }

  /** Within a proposal-loss window, proposals (the large messages) are lost on every link; votes pass. */
  private proposalLost (bytes: Uint8Array): boolean {
    const windows = this.scenario.proposalLoss ?? []
    if (!windows.some(w => this.now >= w.from && this.now < w.to)) return false
    try { return decodeMessage(bytes).type === 'proposal' } catch { return false }
  }

  private cut (a: number, b: number): boolean {
    return this.scenario.partitions.some(p => this.now >= p.from && this.now < p.to &&
      p.groups.findIndex(g => g.includes(a)) !== p.groups.findIndex(g => g.includes(b)))
  }

  /** A node asked for blocks it missed: an honest, reachable peer sends up to ten, over the lossy network. */
  private serveSync (to: number, from: number, height: number): void {
    const server = this.nodes[from]
    if (server === undefined || !server.alive || this.isFaulty(server) || from === to) return
    this.stats.syncs++
    for (const c of server.chain.slice(height - 1, height + 9)) {
      this.send(from, to, encodeMessage({ type: 'committed', block: c.block, commit: c.commit }))
    }
  }

  private commit (node: SimNode, block: Block, commit: Commit): void {
    const hash = headerHash(block.header)
    const h = block.header.height
    this.log(`v${node.index} commits h${h} r${commit.round} ${toHex(hash).slice(0, 8)} (${block.header.entryCount} entries)`)
    if (h !== node.chain.length + 1) throw new SafetyViolation(`v${node.index} committed height ${h} after ${node.chain.length}`)
    node.chain.push({ block, commit, hash })
    node.persisted = []
    if (this.isFaulty(node)) {
      for (const s of block.submissions) for (const e of entriesOf(s)) node.committed.add(toHex(e))
      return
    }
    verifyCommit(this.checker, this.genesis.chainId, commit, hash) // throws unless 2f+1 valid signatures of the real validator set
    const agreed = this.decided.get(h)
    if (agreed === undefined) this.decided.set(h, toHex(hash))
    else if (agreed !== toHex(hash)) throw new SafetyViolation(`agreement: v${node.index} committed ${toHex(hash).slice(0, 8)} at height ${h}, others ${agreed.slice(0, 8)}`)
    if (this.forged(block)) throw new SafetyViolation(`v${node.index} committed block h${h} holding a submission no registered service signed`)
    for (const s of block.submissions) {
      for (const e of entriesOf(s)) {
        const hex = toHex(e)
        if (node.committed.has(hex)) throw new SafetyViolation(`v${node.index} committed entry ${hex.slice(0, 8)} twice`)
        node.committed.add(hex)
      }
    }
  }

  private resubmit (): void {
    this.queue.push(this.now + RESUBMIT_MS, { kind: 'resubmit' })
    const targets = this.nodes.filter(n => n.alive && !this.isFaulty(n))
    if (targets.length === 0) return
    const target = this.rng.pick(targets)
    const missing = this.submissions.flatMap(s => {
      const rest = entriesOf(s).filter(e => !target.committed.has(toHex(e)))
      if (rest.length === 0) return []
      // A submission is signed whole: what is left of a partly committed one is signed anew.
      return [rest.length === entriesOf(s).length ? s : signSubmission(this.genesis.chainId, s.service, packEntries(rest), this.net.serviceSeeds[s.service] as Uint8Array)]
    })
    if (missing.length === 0) return
    try {
      this.input(target, { type: 'submit', submissions: missing })
    } catch (err) {
      if (!(err instanceof TrustnetError) || err.code !== 'MEMPOOL_FULL') throw err
    }
  }

  /** Done when every honest node holds every submitted entry and all are at the same height. */
  private check (): void {
    const honest = this.nodes.filter(n => !this.isFaulty(n))
    const heights = new Set(honest.map(n => n.chain.length))
    const complete = honest.every(n => [...this.submitted].every(id => n.committed.has(id)))
    if (complete && heights.size === 1) {
      this.done = true
      return
    }
    this.queue.push(this.now + 100, { kind: 'check' })
  }

  private isFaulty (node: SimNode): boolean {
    return node.behaviour !== undefined
  }

  private progress (): string {
    return this.nodes.map(n => `v${n.index}${this.isFaulty(n) ? '*' : ''}:h${n.chain.length}/r${n.machine.currentRound}/${n.machine.currentStep}/${n.committed.size}e`).join(' ')
  }

  private log (line: string): void {
    const entry = `${this.now}ms ${line}`
    if (this.traceAll) console.log(entry)
    this.trace.push(entry)
    if (this.trace.length > 60) this.trace.shift()
  }

  result (failure?: string): SimResult {
    const honest = this.nodes.filter(n => !this.isFaulty(n))
    return {
      ok: failure === undefined,
      scenario: describeScenario(this.scenario),
      ...(failure !== undefined ? { failure } : {}),
      virtualMs: this.now,
      heights: this.nodes.map(n => n.chain.length),
      committedEntries: Math.min(...honest.map(n => n.committed.size)),
      submittedEntries: this.submitted.size,
      stats: this.stats,
      trace: this.trace
    }
  }
}

/** Entry number i of a scenario: distinct for distinct (seed, i). */
function simEntry (seed: number, i: number): Uint8Array {
  return taggedHash('trustnet/sim/entry', Uint8Array.of(seed & 0xff, (seed >> 8) & 0xff, (seed >> 16) & 0xff, i & 0xff, (i >> 8) & 0xff))
}

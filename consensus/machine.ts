/**
 * The agreement state machine: Tendermint's algorithm ("The latest gossip on BFT consensus",
 * Buchman, Kwon, Milosevic 2018, Algorithm 1) with its locking rules, plus what a real network
 * needs around it: a mempool, idle heights that start when there is work, periodic re-sending of
 * own messages (so dropped messages heal), and catch-up from committed blocks.
 *
 * Pure and deterministic: `step(input, now)` consumes one input and returns actions; no clock,
 * no I/O, no randomness. Inputs that fail a check throw a TrustnetError before any state changes.
 */
import { blockProblem, buildBlock, type ChainTip } from './block.js'
import { equalBytes } from './codec.js'
import { verifyCommit } from './commit.js'
import { defaultEd25519, type Ed25519 } from './ed25519.js'
import { invalid } from './errors.js'
import { headerHash, recordId, toHex } from './ids.js'
import { Mempool } from './mempool.js'
import { checkProposal, checkVote } from './message-checks.js'
import { proposalSignBytes, voteSignBytes } from './sign-bytes.js'
import { LedgerRecordSchema, type Block, type Commit, type ConsensusMessage, type ConsensusParams, type Genesis, type LedgerRecord, type Proposal, type Vote, type VoteType } from './types.js'
import { validate } from './codec.js'
import { ValidatorSet } from './validator-set.js'
import { HeightVoteSet } from './vote-set.js'
import { z } from 'zod'

export type Step = 'propose' | 'prevote' | 'precommit'
export type TimeoutKind = 'propose' | 'prevote' | 'precommit' | 'tick' | 'gather'
export interface Timeout { kind: TimeoutKind, height: number, round: number }

export type Input =
  | { type: 'start' }
  /** A message from the network, as produced by decodeMessage. */
  | { type: 'message', message: ConsensusMessage }
  /**
   * Records submitted locally (by a service through this node). `checked`: every record already
   * passed LedgerRecordSchema (the node decodes submit requests with it), so it is not checked
   * again; leave it unset for records of any other origin.
   */
  | { type: 'submit', records: LedgerRecord[], checked?: true }
  | { type: 'timeout', timeout: Timeout }

export type Evidence =
  | { kind: 'conflicting-votes', first: Vote, second: Vote }
  | { kind: 'conflicting-proposals', validator: number, first: Proposal, second: Proposal }

export type Action =
  /** Write this to durable storage before carrying out any later action: it is signed by us, or justifies what we signed. */
  | { type: 'persist', message: ConsensusMessage }
  /** `resend` marks a copy of something already sent: transports that drop repeated bytes must send it anyway. */
  | { type: 'broadcast', message: ConsensusMessage, resend?: true }
  | { type: 'schedule', timeout: Timeout, afterMs: number }
  | { type: 'commit', block: Block, commit: Commit }
  /** This node is behind: fetch committed blocks from `height` on, preferably from validator `from`. */
  | { type: 'sync-needed', height: number, from: number }
  | { type: 'evidence', evidence: Evidence }

export interface MachineInit {
  genesis: Genesis
  /** The validator this machine signs for; omit for a non-voting observer. */
  self?: { index: number, seed: Uint8Array }
  /** The last committed block (height 0 and the genesis hash for a new chain). */
  tip: ChainTip
  ed?: Ed25519
  /**
   * Sign nothing at this height: what we signed here before a restart could not be read back,
   * so any new vote might contradict it. We follow the others and resume at the next height.
   */
  abstainAt?: number
}

interface ReceivedProposal { proposal: Proposal, hash: Uint8Array, valid: boolean }

/** Votes from rounds further ahead than this are dropped: they cannot help and would cost memory. */
const MAX_ROUNDS_AHEAD = 50
const MAX_EVIDENCE = 1000
const SubmitSchema = z.array(LedgerRecordSchema).min(1)

export class Machine {
  readonly validators: ValidatorSet
  readonly chainId: string
  readonly params: ConsensusParams
  readonly mempool: Mempool
  readonly evidence: Evidence[] = []
  private readonly self: { index: number, seed: Uint8Array } | undefined
  private readonly abstainAt: number | undefined
  private readonly ed: Ed25519

  private tip: ChainTip
  private round = 0
  private stepName: Step = 'propose'
  /** Idle until there is work at this height: records to order, or messages from peers. */
  private active = false
  private lockedRound = -1
  private lockedBlock: Block | null = null
  private validRound = -1
  private validBlock: Block | null = null
  private proposals = new Map<number, ReceivedProposal>()
  /** Proposals this validator has on disk: a block of thousands of records is written once, not again as a lock's justification. */
  private readonly persistedProposals = new WeakSet<Proposal>()
  /** Hashes of the blocks proposed at this height: conflicting votes for them are counted. */
  private knownBlocks = new Set<string>()
  private votes = new HeightVoteSet()
  /** "for the first time" guards of the algorithm, per round. */
  private fired = new Set<string>()
  /** Messages for the next height, verified, replayed when we get there. */
  private nextHeight: ConsensusMessage[] = []
  private lastOwnPrecommit: Vote | null = null
  /** When this validator last decided a block (its clock); a restarted one has not. */
  private decidedAt = Number.NEGATIVE_INFINITY
  private readonly peerHeights = new Map<number, number>()
  private syncAskedAt = -1
  private heightAtLastTick = 0
  private syncCursor = 0
  private actions: Action[] = []

  constructor (init: MachineInit) {
    this.validators = new ValidatorSet(init.genesis)
    this.chainId = init.genesis.chainId
    this.params = init.genesis.params
    this.mempool = new Mempool(this.params.maxMempoolRecords)
    this.ed = init.ed ?? defaultEd25519
    this.tip = init.tip
    if (init.self !== undefined) {
      const key = this.validators.publicKey(init.self.index)
      if (key === undefined || !equalBytes(key, this.ed.publicKey(init.self.seed))) {
        throw invalid('UNKNOWN_VALIDATOR', `this key is not validator ${init.self.index} of the genesis`)
      }
    }
    this.self = init.self
    this.abstainAt = init.abstainAt
  }

  get height (): number { return this.tip.height + 1 }
  get currentRound (): number { return this.round }
  get currentStep (): Step { return this.stepName }
  get lastCommitted (): ChainTip { return this.tip }
  get isProposer (): boolean { return this.self?.index === this.validators.proposer(this.height, this.round) }

  /** Feed one input; returns the actions to carry out, in order. */
  step (input: Input, now: number): Action[] {
    this.actions = []
    switch (input.type) {
      case 'start':
        this.schedule('tick', this.height, 0, this.params.rebroadcastMs)
        break
      case 'submit':
        this.onSubmit(input.records, input.checked === true)
        break
      case 'message':
        this.onMessage(input.message, now)
        break
      case 'timeout':
        this.onTimeout(input.timeout, now)
        break
    }
    this.react(now)
    const out = this.actions
    this.actions = []
    return out
  }

  /**
   * Reload what this validator persisted at the current height before a restart: its votes and
   * the proposals they rest on. It resumes in the round it reached, locked as it was, and will
   * not sign anything in a (round, step) it already signed.
   */
  restore (persisted: readonly ConsensusMessage[]): void {
    const own = this.self?.index
    if (own === undefined) return
    for (const m of persisted) {
      if (m.type === 'proposal' && m.proposal.height === this.height) {
        this.persistedProposals.add(m.proposal)
        this.addProposal(m.proposal, this.checkProposal(m.proposal), Number.POSITIVE_INFINITY)
      } else if (m.type === 'vote' && m.vote.height === this.height) {
        this.checkVoteSignature(m.vote)
        this.votes.get(m.vote.round, m.vote.type).add(m.vote, () => true)
      }
    }
    for (const r of this.votes.roundsSeen()) {
      const precommit = this.votes.peek(r, 'precommit')?.get(own)
      const prevote = this.votes.peek(r, 'prevote')?.get(own)
      if (precommit === undefined && prevote === undefined) continue
      this.active = true
      this.round = r
      this.stepName = precommit !== undefined ? 'precommit' : 'prevote'
      const locked = precommit?.blockHash == null ? undefined : this.proposals.get(r)
      if (locked !== undefined && precommit?.blockHash != null && equalBytes(locked.hash, precommit.blockHash)) {
        this.lockedBlock = this.validBlock = locked.proposal.block
        this.lockedRound = this.validRound = r
      }
    }
  }

  // ---- inputs -------------------------------------------------------------------------------

  private onSubmit (records: LedgerRecord[], checked: boolean): void {
    // Validating also copies: records checked before keep their identity, and with it their memoized ids.
    const fresh = this.mempool.addAll(checked ? records : validate(SubmitSchema, records))
    if (fresh.length > 0) this.emit({ type: 'broadcast', message: { type: 'records', records: fresh } })
  }

  private onMessage (message: ConsensusMessage, now: number): void {
    switch (message.type) {
      case 'records':
        this.mempool.addWhatFits(message.records)
        return
      case 'vote':
        this.onVote(message.vote)
        return
      case 'proposal':
        this.onProposal(message.proposal, now)
        return
      case 'committed':
        this.onCommitted(message.block, message.commit, now)
    }
  }

  private onVote (vote: Vote): void {
    if (vote.height < this.height) return
    if (vote.height === this.height && this.votes.peek(vote.round, vote.type)?.has(vote) === true) return // a copy: no need to check it again
    this.checkVoteSignature(vote)
    if (vote.height > this.height) {
      this.notePeerHeight(vote.validator, vote.height)
      if (vote.height === this.height + 1) this.bufferNextHeight({ type: 'vote', vote })
      return
    }
    this.addVote(vote)
  }

  private addVote (vote: Vote): void {
    if (vote.round > this.round + MAX_ROUNDS_AHEAD) return
    const result = this.votes.get(vote.round, vote.type).add(vote, key => this.knownBlocks.has(key))
    if (result.status === 'equivocation') this.recordEvidence({ kind: 'conflicting-votes', first: result.first, second: vote })
  }

  private onProposal (proposal: Proposal, now: number): void {
    if (proposal.height < this.height) return
    const hash = this.checkProposal(proposal)
    const proposer = this.validators.proposer(proposal.height, proposal.round)
    if (proposal.height > this.height) {
      this.notePeerHeight(proposer, proposal.height)
      if (proposal.height === this.height + 1) this.bufferNextHeight({ type: 'proposal', proposal })
      return
    }
    this.addProposal(proposal, hash, now)
  }

  private addProposal (proposal: Proposal, hash: Uint8Array, now: number): void {
    if (proposal.round > this.round + MAX_ROUNDS_AHEAD) return
    const existing = this.proposals.get(proposal.round)
    if (existing !== undefined) {
      if (!equalBytes(existing.hash, hash)) {
        this.recordEvidence({ kind: 'conflicting-proposals', validator: this.validators.proposer(proposal.height, proposal.round), first: existing.proposal, second: proposal })
      }
      return
    }
    const problem = blockProblem(proposal.block, this.chainId, this.tip, this.params, this.validators.size, now)
    this.proposals.set(proposal.round, { proposal, hash, valid: problem === undefined })
    this.learnBlock(hash)
  }

  private onCommitted (block: Block, commit: Commit, now: number): void {
    if (block.header.height !== this.height) return
    const hash = headerHash(block.header)
    if (commit.height !== block.header.height) throw invalid('INVALID_COMMIT', 'commit height differs from the block height')
    verifyCommit(this.validators, this.chainId, commit, hash, this.ed)
    // Committed by a quorum, so the block's time was already judged: only its link to our chain matters.
    const problem = blockProblem(block, this.chainId, this.tip, this.params, this.validators.size, Number.POSITIVE_INFINITY)
    if (problem !== undefined) throw invalid('INVALID_BLOCK', `committed block does not extend this chain: ${problem}`)
    this.decide(block, hash, commit, now)
  }

  private onTimeout (t: Timeout, now: number): void {
    if (t.kind === 'tick') {
      this.onTick()
      return
    }
    // 'gather' only wakes the height: react() runs after every input.
    if (t.kind === 'gather' || t.height !== this.height || t.round !== this.round) return
    if (t.kind === 'propose' && this.stepName === 'propose') this.castVote('prevote', null)
    else if (t.kind === 'prevote' && this.stepName === 'prevote') this.castVote('precommit', null)
    else if (t.kind === 'precommit') this.startRound(this.round + 1, now)
  }

  /** Re-send own messages of this height (gossip may have lost them) and ask for blocks when behind. */
  private onTick (): void {
    this.schedule('tick', this.height, this.round, this.params.rebroadcastMs)
    const own = this.self?.index
    if (own !== undefined) {
      const proposal = this.proposals.get(this.round)
      if (proposal !== undefined && this.isProposer) this.emit({ type: 'broadcast', message: { type: 'proposal', proposal: proposal.proposal }, resend: true })
      let sent = false
      for (const r of [this.round - 1, this.round]) {
        for (const type of ['prevote', 'precommit'] as const) {
          const vote = this.votes.peek(r, type)?.get(own)
          if (vote !== undefined) { this.emit({ type: 'broadcast', message: { type: 'vote', vote }, resend: true }); sent = true }
        }
      }
      // Idle at a new height: our last precommit tells lagging peers where we are.
      if (!sent && this.lastOwnPrecommit !== null) this.emit({ type: 'broadcast', message: { type: 'vote', vote: this.lastOwnPrecommit }, resend: true })
      // The prevotes that justify our valid block: a later leader re-proposing it needs peers to have seen them.
      if (this.validBlock !== null) {
        for (const vote of this.votes.peek(this.validRound, 'prevote')?.votesFor(headerHash(this.validBlock.header)) ?? []) {
          if (vote.validator !== own) this.emit({ type: 'broadcast', message: { type: 'vote', vote }, resend: true })
        }
      }
    }
    this.syncAskedAt = -1
    const stalled = this.active && this.height === this.heightAtLastTick
    this.heightAtLastTick = this.height
    if (stalled) {
      // Stuck for a whole tick: whoever precommitted a block here may have committed it without us.
      for (const r of this.votes.roundsSeen()) {
        for (const v of this.votes.peek(r, 'precommit')?.all() ?? []) if (v.blockHash !== null) this.notePeerHeight(v.validator, this.height + 1)
      }
    }
    this.askForSyncIfBehind(stalled)
  }

  // ---- checks that throw before any state changes -------------------------------------------

  private checkVoteSignature (vote: Vote): void {
    checkVote(this.validators, this.chainId, vote, this.ed)
  }

  private checkProposal (proposal: Proposal): Uint8Array {
    return checkProposal(this.validators, this.chainId, proposal, this.ed)
  }

  // ---- the algorithm ------------------------------------------------------------------------

  /** Apply every rule of the algorithm that holds, until none does. */
  private react (now: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.active) {
        if (this.mempool.size === 0 && this.proposals.size === 0 && this.votes.isEmpty()) return
        if (this.gathering(now)) return
        this.active = true
        this.startRound(0, now)
        continue
      }
      if (this.tryDecide(now)) continue
      if (this.trySkipRound(now)) continue
      if (this.tryPrevote()) continue
      if (this.tryScheduleVoteTimeouts()) continue
      if (this.tryPrecommitOnPolka()) continue
      if (this.tryPrecommitNil()) continue
      return
    }
    throw new Error('consensus rules did not settle') // a bug, not an input error
  }

  /**
   * Whether this height waits for more records before it starts: only records are waiting (no
   * proposal or vote of a peer yet), fewer than a full block, and the last commit was less than
   * minBlockIntervalMs ago. A timeout wakes the height when the interval is over.
   */
  private gathering (now: number): boolean {
    const until = this.decidedAt + (this.params.minBlockIntervalMs ?? 0)
    if (now >= until || this.proposals.size > 0 || !this.votes.isEmpty() || this.mempool.size >= this.params.maxBlockRecords) return false
    if (this.once('gather')) this.schedule('gather', this.height, 0, until - now)
    return true
  }

  private startRound (round: number, now: number): void {
    this.round = round
    this.stepName = 'propose'
    const restored = this.proposals.get(round)
    if (this.isProposer && restored !== undefined) {
      // Our own proposal from before a restart: send it again, never a different one.
      this.emit({ type: 'broadcast', message: { type: 'proposal', proposal: restored.proposal }, resend: true })
    } else if (this.isProposer && this.self !== undefined && this.abstainAt !== this.height) {
      const block = this.validBlock ?? this.freshBlock(now)
      const validRound = this.validBlock !== null ? this.validRound : -1
      const hash = headerHash(block.header)
      const signature = this.ed.sign(this.self.seed, proposalSignBytes(this.chainId, this.height, round, validRound, hash))
      const proposal: Proposal = { height: this.height, round, validRound, block, signature }
      this.proposals.set(round, { proposal, hash, valid: true })
      this.learnBlock(hash)
      this.persistProposal(proposal)
      this.emit({ type: 'broadcast', message: { type: 'proposal', proposal } })
    } else {
      this.schedule('propose', this.height, round, this.params.timeoutProposeMs + round * this.params.timeoutDeltaMs)
    }
  }

  private freshBlock (now: number): Block {
    const pending = this.mempool.take(this.params.maxBlockRecords)
    return buildBlock(this.chainId, this.tip, this.self?.index ?? 0, now, pending.map(p => p.record), pending.map(p => p.id))
  }

  /** upon PROPOSAL(h, r, v, *) and 2f+1 PRECOMMIT(h, r, id(v)), any round: decide v. */
  private tryDecide (now: number): boolean {
    for (const r of this.votes.roundsSeen()) {
      const precommits = this.votes.peek(r, 'precommit')
      const majority = precommits?.majority(this.validators.quorum)
      if (precommits === undefined || majority === undefined || majority.hash === null) continue
      const proposal = this.proposals.get(r)
      const block = proposal !== undefined && equalBytes(proposal.hash, majority.hash) && proposal.valid
        ? proposal.proposal.block
        : this.knownBlock(majority.hash)
      if (block === undefined) {
        // A quorum precommitted a block we never received: they are moving on; fetch it from them.
        for (const v of precommits.votesFor(majority.hash)) this.notePeerHeight(v.validator, this.height + 1)
        this.askForSyncIfBehind()
        continue
      }
      const signatures = precommits.votesFor(majority.hash).map(v => ({ validator: v.validator, signature: v.signature }))
      this.decide(block, majority.hash, { height: this.height, round: r, blockHash: majority.hash, signatures }, now)
      return true
    }
    return false
  }

  /** A valid block with this hash proposed in any round of this height. */
  private knownBlock (hash: Uint8Array): Block | undefined {
    for (const p of this.proposals.values()) if (p.valid && equalBytes(p.hash, hash)) return p.proposal.block
    return undefined
  }

  /** upon f+1 messages of a later round: go to that round. */
  private trySkipRound (now: number): boolean {
    const rounds = this.votes.roundsSeen().filter(r => r > this.round)
    for (const r of rounds.reverse()) {
      const senders = new Set([...this.votes.get(r, 'prevote').validators(), ...this.votes.get(r, 'precommit').validators()])
      if (this.proposals.has(r)) senders.add(this.validators.proposer(this.height, r))
      if (senders.size >= this.validators.maxFaulty + 1) {
        this.startRound(r, now)
        return true
      }
    }
    return false
  }

  /** upon PROPOSAL(h, r, v, vr) in step propose: prevote v if it is valid and our lock allows, else nil. */
  private tryPrevote (): boolean {
    if (this.stepName !== 'propose') return false
    const p = this.proposals.get(this.round)
    if (p === undefined) return false
    const vr = p.proposal.validRound
    if (vr === -1) {
      const ok = p.valid && (this.lockedRound === -1 || this.lockedIs(p.hash))
      this.castVote('prevote', ok ? p.hash : null)
      return true
    }
    if (vr < this.round && (this.votes.peek(vr, 'prevote')?.count(p.hash) ?? 0) >= this.validators.quorum) {
      const ok = p.valid && (this.lockedRound <= vr || this.lockedIs(p.hash))
      this.castVote('prevote', ok ? p.hash : null)
      return true
    }
    return false
  }

  /** 2f+1 prevotes (resp. precommits) of any kind: start the vote timeout, once per round. */
  private tryScheduleVoteTimeouts (): boolean {
    const r = this.round
    if (this.stepName === 'prevote' && this.votes.get(r, 'prevote').total >= this.validators.quorum && this.once(`prevote-timeout:${r}`)) {
      this.schedule('prevote', this.height, r, this.params.timeoutVoteMs + r * this.params.timeoutDeltaMs)
      return true
    }
    if (this.votes.get(r, 'precommit').total >= this.validators.quorum && this.once(`precommit-timeout:${r}`)) {
      this.schedule('precommit', this.height, r, this.params.timeoutVoteMs + r * this.params.timeoutDeltaMs)
      return true
    }
    return false
  }

  /** upon PROPOSAL(h, r, v, *) and 2f+1 PREVOTE(h, r, id(v)), step >= prevote, first time: lock and precommit v. */
  private tryPrecommitOnPolka (): boolean {
    if (this.stepName === 'propose') return false
    const p = this.proposals.get(this.round)
    if (p === undefined || !p.valid) return false
    if (this.votes.get(this.round, 'prevote').count(p.hash) < this.validators.quorum) return false
    if (!this.once(`polka:${this.round}`)) return false
    if (this.stepName === 'prevote') {
      this.lockedBlock = p.proposal.block
      this.lockedRound = this.round
      this.castVote('precommit', p.hash)
    }
    this.validBlock = p.proposal.block
    this.validRound = this.round
    return true
  }

  /** upon 2f+1 PREVOTE(h, r, nil) in step prevote: precommit nil. */
  private tryPrecommitNil (): boolean {
    if (this.stepName !== 'prevote') return false
    if (this.votes.get(this.round, 'prevote').count(null) < this.validators.quorum) return false
    this.castVote('precommit', null)
    return true
  }

  private lockedIs (hash: Uint8Array): boolean {
    return this.lockedBlock !== null && equalBytes(headerHash(this.lockedBlock.header), hash)
  }

  /** Sign and send our vote for this round's step, and count it ourselves (gossip does not echo it back). */
  private castVote (type: VoteType, blockHash: Uint8Array | null): void {
    this.stepName = type
    if (this.self === undefined || this.abstainAt === this.height) return
    const set = this.votes.get(this.round, type)
    if (set.get(this.self.index) !== undefined) return // never sign twice in one (height, round, step)
    const signature = this.ed.sign(this.self.seed, voteSignBytes(this.chainId, type, this.height, this.round, blockHash))
    const vote: Vote = { type, height: this.height, round: this.round, blockHash, validator: this.self.index, signature }
    set.add(vote)
    // A lock must survive a restart together with the block it locks on and the prevotes that
    // justify it: without them no peer could ever be convinced to re-propose it, and we could not unlock.
    const justification = this.proposals.get(this.round)
    if (type === 'precommit' && blockHash !== null && justification !== undefined) {
      this.persistProposal(justification.proposal)
      for (const prevote of this.votes.get(this.round, 'prevote').votesFor(blockHash)) {
        if (prevote.validator !== this.self.index) this.emit({ type: 'persist', message: { type: 'vote', vote: prevote } })
      }
    }
    this.emit({ type: 'persist', message: { type: 'vote', vote } })
    this.emit({ type: 'broadcast', message: { type: 'vote', vote } })
  }

  private persistProposal (proposal: Proposal): void {
    if (this.persistedProposals.has(proposal)) return
    this.persistedProposals.add(proposal)
    this.emit({ type: 'persist', message: { type: 'proposal', proposal } })
  }

  private decide (block: Block, hash: Uint8Array, commit: Commit, now: number): void {
    const own = this.self === undefined ? undefined : this.votes.peek(commit.round, 'precommit')?.get(this.self.index)
    this.emit({ type: 'commit', block, commit })
    this.mempool.removeCommitted(block.records.map(recordId))
    this.tip = { height: block.header.height, hash, time: block.header.time }
    this.lastOwnPrecommit = own ?? null
    this.decidedAt = now
    this.enterHeight(now)
  }

  private enterHeight (now: number): void {
    this.round = 0
    this.stepName = 'propose'
    this.active = false
    this.lockedRound = -1
    this.lockedBlock = null
    this.validRound = -1
    this.validBlock = null
    this.proposals = new Map()
    this.knownBlocks = new Set()
    this.votes = new HeightVoteSet()
    this.fired = new Set()
    const buffered = this.nextHeight
    this.nextHeight = []
    for (const m of buffered) {
      if (m.type === 'vote') this.addVote(m.vote)
      else if (m.type === 'proposal') this.addProposal(m.proposal, headerHash(m.proposal.block.header), now)
    }
    this.askForSyncIfBehind()
  }

  // ---- catch-up -----------------------------------------------------------------------------

  private notePeerHeight (validator: number, height: number): void {
    if (validator >= 0 && height > (this.peerHeights.get(validator) ?? 0)) this.peerHeights.set(validator, height)
    // Two or more heights ahead cannot be normal jitter: ask at once rather than at the next tick.
    if (height >= this.height + 2) this.askForSyncIfBehind()
  }

  /**
   * Ask for blocks when peers are known to be ahead; when stalled without knowing, probe the
   * others in turn (peers that restarted may be ahead yet silent while idle).
   */
  private askForSyncIfBehind (stalled = false): void {
    // Stalled: those that claimed to be ahead did not help, so ask everyone in turn.
    const candidates = stalled
      ? [...this.validators.publicKeys.keys()].filter(v => v !== this.self?.index)
      : [...this.peerHeights].filter(([, h]) => h > this.height).map(([v]) => v).sort((a, b) => a - b)
    if (candidates.length === 0 || this.syncAskedAt === this.height) return
    // Rotate (counting only requests made), so that a validator lying about its height cannot stall us.
    const from = candidates[this.syncCursor++ % candidates.length] as number
    this.askForSync(from)
  }

  private askForSync (from: number): void {
    if (this.syncAskedAt === this.height) return
    this.syncAskedAt = this.height
    this.emit({ type: 'sync-needed', height: this.height, from })
  }

  private bufferNextHeight (message: ConsensusMessage): void {
    if (this.nextHeight.length < 4 * this.validators.size + 8) this.nextHeight.push(message)
  }

  // ---- helpers ------------------------------------------------------------------------------

  private learnBlock (hash: Uint8Array): void {
    const key = toHex(hash)
    if (this.knownBlocks.has(key)) return
    this.knownBlocks.add(key)
    this.votes.admit(key)
  }

  private once (key: string): boolean {
    if (this.fired.has(key)) return false
    this.fired.add(key)
    return true
  }

  private schedule (kind: TimeoutKind, height: number, round: number, afterMs: number): void {
    this.emit({ type: 'schedule', timeout: { kind, height, round }, afterMs })
  }

  private recordEvidence (evidence: Evidence): void {
    if (this.evidence.length < MAX_EVIDENCE) this.evidence.push(evidence)
    this.emit({ type: 'evidence', evidence })
  }

  private emit (action: Action): void {
    this.actions.push(action)
  }

  /** A digest of the whole state, for tests that check an input changed nothing. */
  snapshot (): string {
    const votes: string[] = []
    for (const r of this.votes.roundsSeen()) {
      for (const type of ['prevote', 'precommit'] as const) {
        const set = this.votes.peek(r, type)
        for (const v of set?.all() ?? []) votes.push(`${r}:${type}:${v.validator}:${toHex(v.signature)}`)
      }
    }
    return JSON.stringify({
      tip: [this.tip.height, toHex(this.tip.hash), this.tip.time],
      round: this.round,
      step: this.stepName,
      active: this.active,
      locked: [this.lockedRound, this.lockedBlock === null ? null : toHex(headerHash(this.lockedBlock.header))],
      valid: [this.validRound, this.validBlock === null ? null : toHex(headerHash(this.validBlock.header))],
      proposals: [...this.proposals].map(([r, p]) => [r, toHex(p.hash), p.valid]),
      votes: votes.sort(),
      fired: [...this.fired].sort(),
      nextHeight: this.nextHeight.length,
      mempool: this.mempool.ids(),
      evidence: this.evidence.length,
      peerHeights: [...this.peerHeights].sort((a, b) => a[0] - b[0]),
      heightAtLastTick: this.heightAtLastTick,
      syncAskedAt: this.syncAskedAt,
      lastOwnPrecommit: this.lastOwnPrecommit === null ? null : toHex(this.lastOwnPrecommit.signature),
      decidedAt: this.decidedAt
    })
  }
}

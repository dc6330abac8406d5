/**
 * The agreement state machine: Tendermint's algorithm ("The latest gossip on BFT consensus",
 * Buchman, Kwon, Milosevic 2018, Algorithm 1) with its locking rules. This file is the serial
 * entry point: it takes each input, judges proposals and votes, signs, proposes and decides.
 * In their own files: the upon-rules, the height's state, the next-height buffer, catch-up from
 * committed blocks, re-sending at each tick, gathering entries between blocks, resuming after a
 * restart, and the committed-entry lookup every block is judged by. Submissions are checked
 * against the genesis's registered services when they arrive (unless the node already did) and
 * again inside every proposed block, so a lying proposer cannot slip entries in.
 *
 * Pure and deterministic: `step(input, now)` consumes one input and returns actions; no clock,
 * no I/O, no randomness. Inputs that fail a check throw a TrustnetError before any state changes.
 */
import { blockProblem, buildBlock, type ChainTip } from './block.js'
import { CatchUp } from './catch-up.js'
import { equalBytes, validate } from './codec.js'
import { verifyCommit } from './commit.js'
import { CommittedIds } from './committed-ids.js'
import { defaultEd25519, type Ed25519 } from './ed25519.js'
import { entriesOf, entryAt, entryCount, ServiceSet } from './entries.js'
import { invalid } from './errors.js'
import { signedProposalHeader, type Evidence } from './evidence.js'
import { gatherUntil } from './gathering.js'
import { HeightState, type Step } from './height-state.js'
import { chainOf, headerHash, idKey, type ChainIdentity } from './ids.js'
import { Mempool, serviceShare } from './mempool.js'
import { checkProposal, checkVote } from './message-checks.js'
import { NextHeightBuffer } from './next-height-buffer.js'
import { messagesToResend } from './rebroadcast.js'
import { resumeFromLog } from './restore.js'
import { proposalSignBytes, voteSignBytes } from './sign-bytes.js'
import { LIMITS } from './limits.js'
import { SubmissionSchema, type Block, type Commit, type ConsensusMessage, type ConsensusParams, type Genesis, type Proposal, type Submission, type Vote, type VoteType } from './types.js'
import { ValidatorSet } from './validator-set.js'
import { applyRule, type RuleHost } from './voting-rules.js'
import { z } from 'zod'

export type { Step } from './height-state.js'
export type { Evidence } from './evidence.js'
export type TimeoutKind = 'propose' | 'prevote' | 'precommit' | 'tick' | 'gather'
export interface Timeout { kind: TimeoutKind, height: number, round: number }

export type Input =
  | { type: 'start' }
  /** A message from the network, as produced by decodeMessage. */
  | { type: 'message', message: ConsensusMessage }
  /**
   * Submissions made locally (by a service through this node). `checked`: each already passed
   * SubmissionSchema and ServiceSet.check (the node decodes and checks submit requests), so
   * neither runs again; leave it unset for submissions of any other origin.
   */
  | { type: 'submit', submissions: Submission[], checked?: true }
  | { type: 'timeout', timeout: Timeout }

export type Action =
  /** Write this to durable storage before carrying out any later action: it is signed by us, or justifies what we signed. */
  | { type: 'persist', message: ConsensusMessage }
  /** `resend` marks a copy of something already sent: transports that drop repeated bytes must send it anyway. */
  | { type: 'broadcast', message: ConsensusMessage, resend?: true }
  | { type: 'schedule', timeout: Timeout, afterMs: number }
  /** Write the block before the next input: from then on the committed-entry lookup must know its entries. */
  | { type: 'commit', block: Block, commit: Commit }
  /** This node is behind: fetch committed blocks from `height` on, preferably from validator `from`. */
  | { type: 'sync-needed', height: number, from: number }
  /** A validator signed conflicting messages: keep the proof. */
  | { type: 'evidence', evidence: Evidence }

export interface MachineInit {
  genesis: Genesis
  /** The validator this machine signs for; omit for a non-voting observer. */
  self?: { index: number, seed: Uint8Array }
  /** The last committed block (height 0 and the genesis hash for a new chain). */
  tip: ChainTip
  /**
   * Whether an entry is on the committed chain. Called synchronously, for every entry of every
   * block judged and every submission entering the mempool: it must be cheap for new entries.
   */
  isCommitted: (entry: Uint8Array) => boolean
  ed?: Ed25519
  /**
   * Sign nothing at this height: what we signed here before a restart could not be read back,
   * so any new vote might contradict it. We follow the others and resume at the next height.
   */
  abstainAt?: number
}

/** Votes from rounds further ahead than this are not counted; only each validator's latest is kept (VotesAhead). */
const MAX_ROUNDS_AHEAD = 50
const SubmitSchema = z.array(SubmissionSchema).min(1)

/** The machine's state, read-only, for diagnostics and tests. */
export interface MachineView {
  tip: ChainTip
  heightState: HeightState
  nextHeight: number
  mempool: string[]
  catchUp: ReturnType<CatchUp['inspect']>
  lastOwnPrecommit: Vote | null
  decidedAt: number
}

export class Machine {
  readonly validators: ValidatorSet
  readonly chainId: string
  /** The network every block must name: chain id and genesis hash. */
  private readonly chain: ChainIdentity
  readonly params: ConsensusParams
  /** The services allowed to submit entries. */
  readonly services: ServiceSet
  private readonly mempool: Mempool
  private readonly committed: CommittedIds
  private readonly self: { index: number, seed: Uint8Array } | undefined
  private readonly abstainAt: number | undefined
  private readonly ed: Ed25519

  private tip: ChainTip
  private h = new HeightState()
  /** Proposals this validator has on disk: a block of thousands of entries is written once, not again as a lock's justification. */
  private readonly persistedProposals = new WeakSet<Proposal>()
  private readonly nextHeight = new NextHeightBuffer()
  private readonly catchUp: CatchUp
  private lastOwnPrecommit: Vote | null = null
  /** When this validator last decided a block (its clock); a restarted one has not. */
  private decidedAt = Number.NEGATIVE_INFINITY
  private actions: Action[] = []
  private readonly rules: RuleHost

  constructor (init: MachineInit) {
    this.validators = new ValidatorSet(init.genesis)
    this.chainId = init.genesis.chainId
    this.chain = chainOf(init.genesis)
    this.params = init.genesis.params
    this.services = new ServiceSet(init.genesis)
    this.mempool = new Mempool(this.params.maxMempoolEntries, serviceShare(this.params, this.services.size))
    this.committed = new CommittedIds(init.isCommitted)
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
    this.catchUp = new CatchUp(this.validators.size, init.self?.index)
    this.rules = {
      state: () => this.h,
      height: () => this.height,
      validators: this.validators,
      timeoutVoteMs: round => this.params.timeoutVoteMs + round * this.params.timeoutDeltaMs,
      castVote: (type, blockHash) => { this.castVote(type, blockHash) },
      startRound: (round, now) => { this.startRound(round, now) },
      decide: (block, hash, commit, now) => { this.decide(block, hash, commit, now) },
      scheduleVoteTimeout: (kind, round, afterMs) => { this.schedule(kind, this.height, round, afterMs) },
      fetchDecided: validators => {
        for (const v of validators) this.catchUp.notePeer(v, this.height + 1)
        this.askForSyncIfBehind()
      }
    }
  }

  get height (): number { return this.tip.height + 1 }
  get currentRound (): number { return this.h.round }
  get currentStep (): Step { return this.h.step }
  get lastCommitted (): ChainTip { return this.tip }
  get isProposer (): boolean { return this.self?.index === this.validators.proposer(this.height, this.h.round) }
  /** Entries waiting for a block, over all pending submissions. */
  get mempoolSize (): number { return this.mempool.size }

  /** The state as it stands between steps; not to be changed. */
  inspect (): MachineView {
    return { tip: this.tip, heightState: this.h, nextHeight: this.nextHeight.size, mempool: this.mempool.ids(), catchUp: this.catchUp.inspect(), lastOwnPrecommit: this.lastOwnPrecommit, decidedAt: this.decidedAt }
  }

  /** Feed one input; returns the actions to carry out, in order. */
  step (input: Input, now: number): Action[] {
    this.actions = []
    this.committed.newStep()
    switch (input.type) {
      case 'start':
        this.schedule('tick', this.height, 0, this.params.rebroadcastMs)
        break
      case 'submit':
        this.onSubmit(input.submissions, input.checked === true)
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
   * the proposals they rest on (judged again, against the chain as it is now).
   */
  restore (persisted: readonly ConsensusMessage[]): void {
    const own = this.self?.index
    if (own === undefined) return
    for (const m of persisted) {
      if (m.type === 'proposal' && m.proposal.height === this.height) {
        this.persistedProposals.add(m.proposal)
        // Its own disk: judged again with the block (a bad submission makes it invalid, not unreadable).
        this.addProposal(m.proposal, checkProposal(this.validators, this.chainId, m.proposal, this.ed), Number.POSITIVE_INFINITY)
      } else if (m.type === 'vote' && m.vote.height === this.height) {
        this.checkVoteSignature(m.vote)
        this.h.votes.get(m.vote.round, m.vote.type).add(m.vote, () => true)
      }
    }
    resumeFromLog(this.h, own)
  }

  // ---- inputs -------------------------------------------------------------------------------

  /**
   * Every submission is checked before any is kept; one holding an entry already on chain is not
   * kept (its signature covers all its entries: the node tells its service to resubmit the rest).
   */
  private onSubmit (submissions: Submission[], checked: boolean): void {
    const valid = checked ? submissions : validate(SubmitSchema, submissions)
    for (const s of valid) this.checkSubmission(s, !checked)
    const fresh = this.mempool.addAll(valid.filter(s => !this.holdsCommitted(s)))
    for (let i = 0; i < fresh.length; i += LIMITS.gossipSubmissionsCeiling) {
      this.emit({ type: 'broadcast', message: { type: 'submissions', submissions: fresh.slice(i, i + LIMITS.gossipSubmissionsCeiling) } })
    }
  }

  private onMessage (message: ConsensusMessage, now: number): void {
    switch (message.type) {
      case 'submissions':
        // A peer gossips only what it checked: one bad submission refuses the whole message.
        for (const s of message.submissions) this.checkSubmission(s, true)
        this.mempool.addWhatFits(message.submissions.filter(s => !this.holdsCommitted(s)))
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
    if (vote.height === this.height && this.h.votes.peek(vote.round, vote.type)?.has(vote) === true) return // a copy: no need to check it again
    this.checkVoteSignature(vote)
    if (vote.height > this.height) {
      this.notePeerHeight(vote.validator, vote.height)
      if (vote.height === this.height + 1) this.nextHeight.add(vote.validator, { type: 'vote', vote })
      return
    }
    this.addVote(vote)
  }

  private addVote (vote: Vote): void {
    if (vote.round > this.h.round + MAX_ROUNDS_AHEAD) {
      this.h.votesAhead.note(vote)
      return
    }
    const result = this.h.votes.get(vote.round, vote.type).add(vote, key => this.h.knownBlocks.has(key))
    if (result.status === 'equivocation') {
      this.emit({ type: 'evidence', evidence: { kind: 'conflicting-votes', validator: vote.validator, height: vote.height, round: vote.round, first: result.first, second: vote } })
    }
  }

  private onProposal (proposal: Proposal, now: number): void {
    if (proposal.height < this.height) return
    const hash = this.checkProposal(proposal)
    const proposer = this.validators.proposer(proposal.height, proposal.round)
    if (proposal.height > this.height) {
      this.notePeerHeight(proposer, proposal.height)
      if (proposal.height === this.height + 1) this.nextHeight.add(proposer, { type: 'proposal', proposal })
      return
    }
    this.addProposal(proposal, hash, now)
  }

  /** Every proposal of this height is judged here: received, replayed from the buffer, or restored. */
  private addProposal (proposal: Proposal, hash: Uint8Array, now: number): void {
    if (proposal.round > this.h.round + MAX_ROUNDS_AHEAD) return
    const existing = this.h.proposals.get(proposal.round)
    if (existing !== undefined) {
      if (!equalBytes(existing.hash, hash)) {
        const validator = this.validators.proposer(proposal.height, proposal.round)
        this.emit({ type: 'evidence', evidence: { kind: 'conflicting-proposals', validator, height: proposal.height, round: proposal.round, first: signedProposalHeader(existing.proposal), second: signedProposalHeader(proposal) } })
      }
      return
    }
    const problem = blockProblem(proposal.block, {
      ...this.chain,
      tip: this.tip,
      params: this.params,
      validators: this.validators.size,
      now,
      reproposed: proposal.validRound >= 0,
      isCommitted: this.committed.has,
      checkSubmission: s => { this.services.check(this.chainId, s, this.ed) }
    })
    this.h.proposals.set(proposal.round, { proposal, hash, valid: problem === undefined })
    this.h.learnBlock(hash)
  }

  private onCommitted (block: Block, commit: Commit, now: number): void {
    if (block.header.height !== this.height) return
    const hash = headerHash(block.header)
    if (commit.height !== block.header.height) throw invalid('INVALID_COMMIT', 'commit height differs from the block height')
    verifyCommit(this.validators, this.chainId, commit, hash, this.ed)
    // Committed by a quorum, so the block's time and submissions were already judged: only its link to our chain matters.
    const problem = blockProblem(block, { ...this.chain, tip: this.tip, params: this.params, validators: this.validators.size, now: Number.POSITIVE_INFINITY })
    if (problem !== undefined) throw invalid('INVALID_BLOCK', `committed block does not extend this chain: ${problem}`)
    this.decide(block, hash, commit, now)
  }

  private onTimeout (t: Timeout, now: number): void {
    if (t.kind === 'tick') {
      this.onTick()
      return
    }
    // 'gather' only wakes the height: react() runs after every input.
    if (t.kind === 'gather' || t.height !== this.height || t.round !== this.h.round) return
    if (t.kind === 'propose' && this.h.step === 'propose') this.castVote('prevote', null)
    else if (t.kind === 'prevote' && this.h.step === 'prevote') this.castVote('precommit', null)
    else if (t.kind === 'precommit') this.startRound(this.h.round + 1, now)
  }

  /** Re-send own messages of this height (gossip may have lost them) and ask for blocks when behind. */
  private onTick (): void {
    this.schedule('tick', this.height, this.h.round, this.params.rebroadcastMs)
    if (this.self !== undefined) {
      for (const message of messagesToResend(this.h, this.self.index, this.isProposer, this.lastOwnPrecommit)) this.emit({ type: 'broadcast', message, resend: true })
    }
    const stalled = this.catchUp.tick(this.height, this.h.active)
    if (stalled) {
      // Stuck for a whole tick: whoever precommitted a block here may have committed it without us.
      for (const r of this.h.votes.roundsSeen()) {
        for (const v of this.h.votes.peek(r, 'precommit')?.all() ?? []) if (v.blockHash !== null) this.catchUp.notePeer(v.validator, this.height + 1)
      }
    }
    this.askForSyncIfBehind(stalled)
  }

  // ---- checks that throw before any state changes -------------------------------------------

  private checkVoteSignature (vote: Vote): void {
    checkVote(this.validators, this.chainId, vote, this.ed)
  }

  private checkProposal (proposal: Proposal): Uint8Array {
    return checkProposal(this.validators, this.chainId, proposal, this.ed, this.services)
  }

  /**
   * A submission a block can hold: from a registered service, signed (when `verify`), no entry
   * twice and no more entries than a block takes. Anything else would wait in the mempool for ever.
   */
  private checkSubmission (s: Submission, verify: boolean): void {
    if (verify) this.services.check(this.chainId, s, this.ed)
    const k = entryCount(s)
    if (k > this.params.maxBlockEntries) throw invalid('OVERSIZED', `submission holds ${k} entries, a block at most ${this.params.maxBlockEntries}`, { size: k, limit: this.params.maxBlockEntries })
    if (k > 1) {
      const seen = new Set<string>()
      for (let i = 0; i < k; i++) seen.add(idKey(entryAt(s, i)))
      if (seen.size !== k) throw invalid('DUPLICATE', 'an entry appears twice in the submission')
    }
  }

  private holdsCommitted (s: Submission): boolean {
    for (let i = 0; i < entryCount(s); i++) if (this.committed.has(entryAt(s, i))) return true
    return false
  }

  // ---- the algorithm ------------------------------------------------------------------------

  /** Apply every rule of the algorithm that holds, until none does. */
  private react (now: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.h.active) {
        if (this.mempool.size === 0 && this.h.quiet) return
        if (this.gathering(now)) return
        this.h.active = true
        this.startRound(0, now)
        continue
      }
      if (applyRule(this.rules, now)) continue
      return
    }
    throw new Error('consensus rules did not settle') // a bug, not an input error
  }

  /** Whether this idle height waits for more entries; a timeout wakes it when the interval is over. */
  private gathering (now: number): boolean {
    const until = gatherUntil(this.params, this.decidedAt, now, this.mempool.size, !this.h.quiet)
    if (until === undefined) return false
    if (this.h.once('gather')) this.schedule('gather', this.height, 0, until - now)
    return true
  }

  private startRound (round: number, now: number): void {
    const h = this.h
    h.round = round
    h.step = 'propose'
    // Votes held back as too far ahead may be countable from this round.
    for (const vote of h.votesAhead.takeUpTo(round + MAX_ROUNDS_AHEAD)) this.addVote(vote)
    const restored = h.proposals.get(round)
    if (this.isProposer && restored !== undefined) {
      // Our own proposal from before a restart: send it again, never a different one.
      this.emit({ type: 'broadcast', message: { type: 'proposal', proposal: restored.proposal }, resend: true })
    } else if (this.isProposer && this.self !== undefined && this.abstainAt !== this.height) {
      const block = h.validBlock ?? this.freshBlock(now)
      const validRound = h.validBlock !== null ? h.validRound : -1
      const hash = headerHash(block.header)
      const signature = this.ed.sign(this.self.seed, proposalSignBytes(this.chainId, this.height, round, validRound, hash))
      const proposal: Proposal = { height: this.height, round, validRound, block, signature }
      h.proposals.set(round, { proposal, hash, valid: true })
      h.learnBlock(hash)
      this.persistProposal(proposal)
      this.emit({ type: 'broadcast', message: { type: 'proposal', proposal } })
    } else {
      this.schedule('propose', this.height, round, this.params.timeoutProposeMs + round * this.params.timeoutDeltaMs)
    }
  }

  private freshBlock (now: number): Block {
    return buildBlock(this.chain, this.tip, this.self?.index ?? 0, now, this.mempool.take(this.params.maxBlockEntries))
  }

  /** Sign and send our vote for this round's step, and count it ourselves (gossip does not echo it back). */
  private castVote (type: VoteType, blockHash: Uint8Array | null): void {
    const h = this.h
    h.step = type
    if (this.self === undefined || this.abstainAt === this.height) return
    const set = h.votes.get(h.round, type)
    if (set.get(this.self.index) !== undefined) return // never sign twice in one (height, round, step)
    const signature = this.ed.sign(this.self.seed, voteSignBytes(this.chainId, type, this.height, h.round, blockHash))
    const vote: Vote = { type, height: this.height, round: h.round, blockHash, validator: this.self.index, signature }
    set.add(vote)
    // A lock must survive a restart together with the block it locks on and the prevotes that
    // justify it: without them no peer could ever be convinced to re-propose it, and we could not unlock.
    const justification = h.proposals.get(h.round)
    if (type === 'precommit' && blockHash !== null && justification !== undefined) {
      this.persistProposal(justification.proposal)
      for (const prevote of h.votes.get(h.round, 'prevote').votesFor(blockHash)) {
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
    const own = this.self === undefined ? undefined : this.h.votes.peek(commit.round, 'precommit')?.get(this.self.index)
    this.emit({ type: 'commit', block, commit })
    const entries = block.submissions.flatMap(entriesOf)
    this.committed.decided(entries)
    this.mempool.removeCommitted(entries)
    this.tip = { height: block.header.height, hash, time: block.header.time }
    this.lastOwnPrecommit = own ?? null
    this.decidedAt = now
    this.enterHeight(now)
  }

  /** A fresh height; what was buffered for it is judged now, against the block just decided too. */
  private enterHeight (now: number): void {
    this.h = new HeightState()
    for (const m of this.nextHeight.drain()) {
      if (m.type === 'vote') this.addVote(m.vote)
      else this.addProposal(m.proposal, headerHash(m.proposal.block.header), now)
    }
    this.askForSyncIfBehind()
  }

  // ---- catch-up -----------------------------------------------------------------------------

  private notePeerHeight (validator: number, height: number): void {
    this.catchUp.notePeer(validator, height)
    // Two or more heights ahead cannot be normal jitter: ask at once rather than at the next tick.
    if (height >= this.height + 2) this.askForSyncIfBehind()
  }

  private askForSyncIfBehind (stalled = false): void {
    const from = this.catchUp.whomToAsk(this.height, stalled)
    if (from !== undefined) this.emit({ type: 'sync-needed', height: this.height, from })
  }

  // ---- helpers ------------------------------------------------------------------------------

  private schedule (kind: TimeoutKind, height: number, round: number, afterMs: number): void {
    this.emit({ type: 'schedule', timeout: { kind, height, round }, afterMs })
  }

  private emit (action: Action): void {
    this.actions.push(action)
  }
}

/**
 * Tendermint's upon-rules ("The latest gossip on BFT consensus", Algorithm 1), each a function
 * that checks its condition on the height's state and, when it holds, acts through the machine:
 * decide, skip to a later round, prevote, start a vote timeout, lock and precommit, precommit nil.
 * The machine applies them after every input until none holds.
 */
import { equalBytes } from './codec.js'
import type { HeightState } from './height-state.js'
import type { Block, Commit, VoteType } from './types.js'
import type { ValidatorSet } from './validator-set.js'

/** What the rules read and do; the machine provides it. */
export interface RuleHost {
  /** The state of the height being decided, and its number. */
  state: () => HeightState
  height: () => number
  readonly validators: ValidatorSet
  readonly timeoutVoteMs: (round: number) => number
  castVote: (type: VoteType, blockHash: Uint8Array | null) => void
  startRound: (round: number, now: number) => void
  decide: (block: Block, hash: Uint8Array, commit: Commit, now: number) => void
  scheduleVoteTimeout: (kind: 'prevote' | 'precommit', round: number, afterMs: number) => void
  /** A quorum precommitted a block this validator never received: they are moving on; fetch it from them. */
  fetchDecided: (validators: readonly number[]) => void
}

/** Applies the first rule that holds; false if none does. */
export function applyRule (host: RuleHost, now: number): boolean {
  return tryDecide(host, now) || trySkipRound(host, now) || tryPrevote(host) || tryScheduleVoteTimeouts(host) || tryPrecommitOnPolka(host) || tryPrecommitNil(host)
}

/** upon PROPOSAL(h, r, v, *) and 2f+1 PRECOMMIT(h, r, id(v)), any round: decide v. */
function tryDecide (host: RuleHost, now: number): boolean {
  const h = host.state()
  const { validators } = host
  for (const r of h.votes.roundsSeen()) {
    const precommits = h.votes.peek(r, 'precommit')
    const majority = precommits?.majority(validators.quorum)
    if (precommits === undefined || majority === undefined || majority.hash === null) continue
    const proposal = h.proposals.get(r)
    const block = proposal !== undefined && equalBytes(proposal.hash, majority.hash) && proposal.valid
      ? proposal.proposal.block
      : h.knownBlock(majority.hash)
    if (block === undefined) {
      host.fetchDecided(precommits.votesFor(majority.hash).map(v => v.validator))
      continue
    }
    const signatures = precommits.votesFor(majority.hash).map(v => ({ validator: v.validator, signature: v.signature }))
    host.decide(block, majority.hash, { height: host.height(), round: r, blockHash: majority.hash, signatures }, now)
    return true
  }
  return false
}

/**
 * upon f+1 messages of a later round: go to that round. Counts the latest votes of rounds beyond
 * reach first (a validator cut off while the others went through many rounds), then the messages
 * of rounds within it.
 */
function trySkipRound (host: RuleHost, now: number): boolean {
  const h = host.state()
  const { validators } = host
  const threshold = validators.maxFaulty + 1
  const far = h.votesAhead.roundReachedBy(threshold, h.round)
  if (far !== undefined) {
    host.startRound(far, now)
    return true
  }
  for (const r of h.votes.roundsSeen().filter(r => r > h.round).reverse()) {
    const senders = new Set([...h.votes.get(r, 'prevote').validators(), ...h.votes.get(r, 'precommit').validators()])
    if (h.proposals.has(r)) senders.add(validators.proposer(host.height(), r))
    if (senders.size >= threshold) {
      host.startRound(r, now)
      return true
    }
  }
  return false
}

/** upon PROPOSAL(h, r, v, vr) in step propose: prevote v if it is valid and our lock allows, else nil. */
function tryPrevote (host: RuleHost): boolean {
  const h = host.state()
  if (h.step !== 'propose') return false
  const p = h.proposals.get(h.round)
  if (p === undefined) return false
  const vr = p.proposal.validRound
  if (vr === -1) {
    const ok = p.valid && (h.lockedRound === -1 || h.lockedIs(p.hash))
    host.castVote('prevote', ok ? p.hash : null)
    return true
  }
  if (vr < h.round && (h.votes.peek(vr, 'prevote')?.count(p.hash) ?? 0) >= host.validators.quorum) {
    const ok = p.valid && (h.lockedRound <= vr || h.lockedIs(p.hash))
    host.castVote('prevote', ok ? p.hash : null)
    return true
  }
  return false
}

/** 2f+1 prevotes (resp. precommits) of any kind: start the vote timeout, once per round. */
function tryScheduleVoteTimeouts (host: RuleHost): boolean {
  const h = host.state()
  const { validators } = host
  const r = h.round
  if (h.step === 'prevote' && h.votes.get(r, 'prevote').total >= validators.quorum && h.once(`prevote-timeout:${r}`)) {
    host.scheduleVoteTimeout('prevote', r, host.timeoutVoteMs(r))
    return true
  }
  if (h.votes.get(r, 'precommit').total >= validators.quorum && h.once(`precommit-timeout:${r}`)) {
    host.scheduleVoteTimeout('precommit', r, host.timeoutVoteMs(r))
    return true
  }
  return false
}

/** upon PROPOSAL(h, r, v, *) and 2f+1 PREVOTE(h, r, id(v)), step >= prevote, first time: lock and precommit v. */
function tryPrecommitOnPolka (host: RuleHost): boolean {
  const h = host.state()
  if (h.step === 'propose') return false
  const p = h.proposals.get(h.round)
  if (p === undefined || !p.valid) return false
  if (h.votes.get(h.round, 'prevote').count(p.hash) < host.validators.quorum) return false
  if (!h.once(`polka:${h.round}`)) return false
  if (h.step === 'prevote') {
    h.lockedBlock = p.proposal.block
    h.lockedRound = h.round
    host.castVote('precommit', p.hash)
  }
  h.validBlock = p.proposal.block
  h.validRound = h.round
  return true
}

/** upon 2f+1 PREVOTE(h, r, nil) in step prevote: precommit nil. */
function tryPrecommitNil (host: RuleHost): boolean {
  const h = host.state()
  if (h.step !== 'prevote') return false
  if (h.votes.get(h.round, 'prevote').count(null) < host.validators.quorum) return false
  host.castVote('precommit', null)
  return true
}

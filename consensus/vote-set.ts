/**
 * Votes of one height, counted per (round, type, block). A validator counts at most once for any
 * one block: an identical copy is a duplicate. A validator that votes for two blocks equivocates:
 * that is recorded as evidence, and the second vote is counted for its own block only if the
 * block is one we know (nil, or a proposal of this height). Counting an equivocator for both
 * blocks is safe (two quorums still share an honest validator) and needed for liveness: otherwise
 * a liar that sent different votes to different peers could keep an honest lock from ever being
 * seen as justified. Votes for unknown blocks wait in one slot per validator, so junk cannot
 * fill memory. Signatures are checked by the caller before a vote is added.
 */
import { toHex } from './ids.js'
import type { Vote, VoteType } from './types.js'

export type AddVoteResult =
  | { status: 'added' }
  | { status: 'duplicate' }
  /** `first` is the validator's first vote of this round and type; `counted` tells whether the new one was counted. */
  | { status: 'equivocation', first: Vote, counted: boolean }

const NIL = 'nil'
export const blockKey = (hash: Uint8Array | null): string => hash === null ? NIL : toHex(hash)

/** Votes of one (height, round, type). */
export class VoteSet {
  private readonly first = new Map<number, Vote>()
  /** blockKey -> validator -> vote counted for that block */
  private readonly byBlock = new Map<string, Map<number, Vote>>()
  /** a conflicting vote for a block not known yet, one per validator */
  private readonly waiting = new Map<number, Vote>()

  /** The first vote of `validator`, so callers can spot a copy before paying for a signature check. */
  get (validator: number): Vote | undefined {
    return this.first.get(validator)
  }

  has (vote: Vote): boolean {
    return this.byBlock.get(blockKey(vote.blockHash))?.has(vote.validator) === true
  }

  add (vote: Vote, isKnownBlock: (key: string) => boolean = () => true): AddVoteResult {
    const key = blockKey(vote.blockHash)
    if (this.byBlock.get(key)?.has(vote.validator) === true) return { status: 'duplicate' }
    const first = this.first.get(vote.validator)
    if (first === undefined) {
      this.first.set(vote.validator, vote)
      this.tally(key, vote)
      return { status: 'added' }
    }
    if (key === NIL || isKnownBlock(key)) {
      this.tally(key, vote)
      return { status: 'equivocation', first, counted: true }
    }
    this.waiting.set(vote.validator, vote)
    return { status: 'equivocation', first, counted: false }
  }

  /** A block became known: count the waiting votes for it. */
  admit (key: string): void {
    for (const [validator, vote] of this.waiting) {
      if (blockKey(vote.blockHash) !== key) continue
      this.waiting.delete(validator)
      this.tally(key, vote)
    }
  }

  private tally (key: string, vote: Vote): void {
    let votes = this.byBlock.get(key)
    if (votes === undefined) {
      votes = new Map()
      this.byBlock.set(key, votes)
    }
    votes.set(vote.validator, vote)
  }

  /** Number of distinct validators that voted, whatever for. */
  get total (): number {
    return this.first.size
  }

  count (hash: Uint8Array | null): number {
    return this.byBlock.get(blockKey(hash))?.size ?? 0
  }

  /** The block (or nil, as null) that has at least `quorum` votes, if any. */
  majority (quorum: number): { hash: Uint8Array | null } | undefined {
    for (const [key, votes] of this.byBlock) {
      if (votes.size < quorum) continue
      if (key === NIL) return { hash: null }
      const any = votes.values().next().value as Vote
      return { hash: any.blockHash }
    }
    return undefined
  }

  /** Votes for `hash`, by ascending validator index. */
  votesFor (hash: Uint8Array | null): Vote[] {
    return [...(this.byBlock.get(blockKey(hash))?.values() ?? [])].sort((a, b) => a.validator - b.validator)
  }

  validators (): number[] {
    return [...this.first.keys()]
  }

  /** Every counted vote, for re-sending and for state digests. */
  all (): Vote[] {
    return [...this.byBlock.values()].flatMap(m => [...m.values()])
  }
}

/** All votes of one height, by round and type. */
export class HeightVoteSet {
  private readonly rounds = new Map<number, { prevote: VoteSet, precommit: VoteSet }>()

  get (round: number, type: VoteType): VoteSet {
    let r = this.rounds.get(round)
    if (r === undefined) {
      r = { prevote: new VoteSet(), precommit: new VoteSet() }
      this.rounds.set(round, r)
    }
    return r[type]
  }

  peek (round: number, type: VoteType): VoteSet | undefined {
    return this.rounds.get(round)?.[type]
  }

  /** A block became known: count votes that waited for it in every round. */
  admit (key: string): void {
    for (const r of this.rounds.values()) {
      r.prevote.admit(key)
      r.precommit.admit(key)
    }
  }

  isEmpty (): boolean {
    for (const r of this.rounds.values()) if (r.prevote.total > 0 || r.precommit.total > 0) return false
    return true
  }

  roundsSeen (): number[] {
    return [...this.rounds.keys()].sort((a, b) => a - b)
  }
}

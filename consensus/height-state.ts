/**
 * What a validator holds about the height it is deciding: its round and step, its lock and
 * valid block, the proposals and votes received, and which of the algorithm's "for the first
 * time" rules already fired. A new height starts from a fresh one.
 */
import { equalBytes } from './codec.js'
import { headerHash, toHex } from './ids.js'
import type { Block, Proposal } from './types.js'
import { HeightVoteSet } from './vote-set.js'
import { VotesAhead } from './votes-ahead.js'

export type Step = 'propose' | 'prevote' | 'precommit'

export interface ReceivedProposal { proposal: Proposal, hash: Uint8Array, valid: boolean }

export class HeightState {
  round = 0
  step: Step = 'propose'
  /** Idle until there is work at this height: entries to order, or messages from peers. */
  active = false
  lockedRound = -1
  lockedBlock: Block | null = null
  validRound = -1
  validBlock: Block | null = null
  readonly proposals = new Map<number, ReceivedProposal>()
  /** Hashes of the blocks proposed at this height: conflicting votes for them are counted. */
  readonly knownBlocks = new Set<string>()
  readonly votes = new HeightVoteSet()
  readonly votesAhead = new VotesAhead()
  /** "for the first time" guards of the algorithm, per round. */
  readonly fired = new Set<string>()

  /** No proposal or vote of this height received yet. */
  get quiet (): boolean {
    return this.proposals.size === 0 && this.votes.isEmpty() && this.votesAhead.isEmpty
  }

  learnBlock (hash: Uint8Array): void {
    const key = toHex(hash)
    if (this.knownBlocks.has(key)) return
    this.knownBlocks.add(key)
    this.votes.admit(key)
  }

  /** A valid block with this hash proposed in any round of this height. */
  knownBlock (hash: Uint8Array): Block | undefined {
    for (const p of this.proposals.values()) if (p.valid && equalBytes(p.hash, hash)) return p.proposal.block
    return undefined
  }

  lockedIs (hash: Uint8Array): boolean {
    return this.lockedBlock !== null && equalBytes(headerHash(this.lockedBlock.header), hash)
  }

  /** True the first time it is called with `key` at this height. */
  once (key: string): boolean {
    if (this.fired.has(key)) return false
    this.fired.add(key)
    return true
  }
}

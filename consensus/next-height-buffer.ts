/**
 * Messages of the next height, verified, kept until this validator gets there and replayed then.
 * Bounded per validator: a proposal, a prevote and a precommit in each of a few rounds (the
 * latest rounds are kept), so one validator flooding cannot push out another's messages.
 */
import type { Proposal, Vote } from './types.js'

/** Rounds of the next height kept per validator. */
export const BUFFERED_ROUNDS = 4

export type BufferedMessage = { type: 'proposal', proposal: Proposal } | { type: 'vote', vote: Vote }
type Slot = 'proposal' | 'prevote' | 'precommit'

export class NextHeightBuffer {
  /** validator (the signer) -> round -> slot -> message */
  private byValidator = new Map<number, Map<number, Map<Slot, BufferedMessage>>>()

  /** Keeps `message`, signed by `validator`, unless its slot is taken or its round is older than every one kept. */
  add (validator: number, message: BufferedMessage): boolean {
    const round = message.type === 'proposal' ? message.proposal.round : message.vote.round
    let rounds = this.byValidator.get(validator)
    if (rounds === undefined) {
      rounds = new Map()
      this.byValidator.set(validator, rounds)
    }
    let slots = rounds.get(round)
    if (slots === undefined) {
      if (rounds.size >= BUFFERED_ROUNDS) {
        const lowest = Math.min(...rounds.keys())
        if (round < lowest) return false
        rounds.delete(lowest)
      }
      slots = new Map()
      rounds.set(round, slots)
    }
    const slot: Slot = message.type === 'proposal' ? 'proposal' : message.vote.type
    if (slots.has(slot)) return false
    slots.set(slot, message)
    return true
  }

  /** Messages held (at most BUFFERED_ROUNDS x 3 per validator). */
  get size (): number {
    let n = 0
    for (const rounds of this.byValidator.values()) for (const slots of rounds.values()) n += slots.size
    return n
  }

  /** Every message, by round, each round's proposals before its votes; the buffer is left empty. */
  drain (): BufferedMessage[] {
    const all: Array<{ round: number, order: number, message: BufferedMessage }> = []
    for (const rounds of this.byValidator.values()) {
      for (const [round, slots] of rounds) for (const m of slots.values()) all.push({ round, order: m.type === 'proposal' ? 0 : 1, message: m })
    }
    this.byValidator = new Map()
    return all.sort((a, b) => a.round - b.round || a.order - b.order).map(e => e.message)
  }
}

/**
 * Votes from rounds too far ahead to be counted (they would cost memory without helping): only
 * the latest one of each validator is kept. When f+1 validators have reached a round, at least
 * one honest validator is there, and a validator left behind (cut off while the others went
 * through many failed rounds) jumps to it instead of waiting for rounds that are over.
 */
import type { Vote } from './types.js'

export class VotesAhead {
  private readonly latest = new Map<number, Vote>()

  get isEmpty (): boolean {
    return this.latest.size === 0
  }

  note (vote: Vote): void {
    const held = this.latest.get(vote.validator)
    if (held === undefined || vote.round > held.round) this.latest.set(vote.validator, vote)
  }

  /** The highest round that `validators` validators have reached or passed, if it is above `round`. */
  roundReachedBy (validators: number, round: number): number | undefined {
    const rounds = [...this.latest.values()].map(v => v.round).sort((a, b) => b - a)
    const reached = rounds[validators - 1]
    return reached !== undefined && reached > round ? reached : undefined
  }

  /** (validator, round) of each vote kept, for state digests. */
  held (): Array<[number, number]> {
    return [...this.latest].map(([validator, vote]): [number, number] => [validator, vote.round]).sort((a, b) => a[0] - b[0])
  }

  /** The votes of rounds up to `maxRound`, which leave this set. */
  takeUpTo (maxRound: number): Vote[] {
    const out: Vote[] = []
    for (const [validator, vote] of this.latest) {
      if (vote.round > maxRound) continue
      this.latest.delete(validator)
      out.push(vote)
    }
    return out
  }
}

/**
 * Where a restarted validator resumes, from the votes and proposals it persisted at the current
 * height (already loaded into the height's state): in the last round it signed in, at the step
 * it reached, locked as it was. It will not sign anything in a (round, step) it already signed,
 * since its own votes are in the vote sets.
 */
import { equalBytes } from './codec.js'
import type { HeightState } from './height-state.js'

export function resumeFromLog (h: HeightState, own: number): void {
  for (const r of h.votes.roundsSeen()) {
    const precommit = h.votes.peek(r, 'precommit')?.get(own)
    const prevote = h.votes.peek(r, 'prevote')?.get(own)
    if (precommit === undefined && prevote === undefined) continue
    h.active = true
    h.round = r
    h.step = precommit !== undefined ? 'precommit' : 'prevote'
    const locked = precommit?.blockHash == null ? undefined : h.proposals.get(r)
    if (locked !== undefined && precommit?.blockHash != null && equalBytes(locked.hash, precommit.blockHash)) {
      h.lockedBlock = h.validBlock = locked.proposal.block
      h.lockedRound = h.validRound = r
    }
  }
}

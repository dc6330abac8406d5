/**
 * What a validator sends again at every tick, since gossip may have lost it: its proposal of the
 * current round, its votes of this round and the last, the prevotes that justify its valid block
 * (a later leader re-proposing it needs peers to have seen them), and when idle at a new height
 * its last precommit, which tells lagging peers where it is.
 */
import { headerHash } from './ids.js'
import type { HeightState } from './height-state.js'
import type { ConsensusMessage, Vote } from './types.js'

export function messagesToResend (h: HeightState, own: number, isProposer: boolean, lastOwnPrecommit: Vote | null): ConsensusMessage[] {
  const out: ConsensusMessage[] = []
  const proposal = h.proposals.get(h.round)
  if (proposal !== undefined && isProposer) out.push({ type: 'proposal', proposal: proposal.proposal })
  let sent = false
  for (const r of [h.round - 1, h.round]) {
    for (const type of ['prevote', 'precommit'] as const) {
      const vote = h.votes.peek(r, type)?.get(own)
      if (vote !== undefined) { out.push({ type: 'vote', vote }); sent = true }
    }
  }
  if (!sent && lastOwnPrecommit !== null) out.push({ type: 'vote', vote: lastOwnPrecommit })
  if (h.validBlock !== null) {
    for (const vote of h.votes.peek(h.validRound, 'prevote')?.votesFor(headerHash(h.validBlock.header)) ?? []) {
      if (vote.validator !== own) out.push({ type: 'vote', vote })
    }
  }
  return out
}

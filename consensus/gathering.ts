/**
 * Whether a height waits for more entries before it starts: only submissions are waiting (no
 * proposal or vote of a peer yet), fewer entries than a full block, and the last commit was less
 * than minBlockIntervalMs ago. Under load, blocks of a few entries back to back would each cost
 * every validator a block's votes, signatures and synced writes; an idle network starts at once.
 */
import type { ConsensusParams } from './types.js'

/** The time until which the height gathers entries, or undefined if it may start now. */
export function gatherUntil (params: ConsensusParams, decidedAt: number, now: number, pendingEntries: number, peersMoved: boolean): number | undefined {
  const until = decidedAt + (params.minBlockIntervalMs ?? 0)
  if (now >= until || peersMoved || pendingEntries >= params.maxBlockEntries) return undefined
  return until
}

/**
 * Building a block from pending submissions and checking a proposed one against the chain it
 * extends: chain id and genesis hash, height, previous hash, time, proposer, entry count, Merkle root, every submission
 * signed by a registered service, no entry twice in the block nor one already on chain. Returns
 * a reason instead of throwing: an invalid block is voted nil, not an error of the sender's message.
 */
import { equalBytes } from './codec.js'
import { entryAt, entryCount, leavesOf } from './entries.js'
import { TrustnetError } from './errors.js'
import { idKey, type ChainIdentity } from './ids.js'
import { merkleRoot } from './merkle.js'
import type { Block, BlockHeader, ConsensusParams, Submission } from './types.js'

/** What a block must extend: the last committed header's hash and time (the genesis at height 0). */
export interface ChainTip { height: number, hash: Uint8Array, time: number }

// A block's submissions are never changed once it is built, so the root over them is computed
// once per array: a proposal's assembly and its block check share it.
const roots = new WeakMap<readonly Submission[], Uint8Array>()

/** The Merkle root over the leaves (service index, entry) of `submissions`, in order. */
export function entriesRoot (submissions: readonly Submission[]): Uint8Array {
  let root = roots.get(submissions)
  if (root === undefined) {
    root = merkleRoot(leavesOf(submissions))
    roots.set(submissions, root)
  }
  return root
}

/** Entries in a run of submissions. */
export function totalEntries (submissions: readonly Pick<Submission, 'entries'>[]): number {
  let n = 0
  for (const s of submissions) n += entryCount(s)
  return n
}

/** A block of `submissions` extending `tip` on the network `chain` names (ids.ts chainOf). */
export function buildBlock (chain: ChainIdentity, tip: ChainTip, proposer: number, time: number, submissions: Submission[]): Block {
  const header: BlockHeader = {
    chainId: chain.chainId,
    genesisHash: chain.genesisHash,
    height: tip.height + 1,
    prevHash: tip.hash,
    time: Math.max(time, tip.time),
    proposer,
    entriesRoot: entriesRoot(submissions),
    entryCount: totalEntries(submissions)
  }
  return { header, submissions }
}

/** What a block is judged against: the network (chain id and genesis hash) first. */
export interface BlockContext extends ChainIdentity {
  tip: ChainTip
  params: ConsensusParams
  /** Number of validators. */
  validators: number
  /**
   * The judge's clock. A finite `now` judges a fresh proposal: its time must be near it, within
   * maxClockDriftMs ahead and maxBlockTimeLagMs behind. Infinity skips both bounds: a block
   * committed by a quorum, or one this validator already judged before a restart.
   */
  now: number
  /** A block re-proposed from an earlier round keeps the time it was built with: no lower bound. */
  reproposed?: boolean
  /** Whether an entry is already on chain; omitted, only the block itself is looked at. */
  isCommitted?: (entry: Uint8Array) => boolean
  /**
   * Throws (UNKNOWN_SERVICE, BAD_SIGNATURE) unless a registered service signed the submission;
   * omitted for a block a quorum committed, whose submissions the quorum checked.
   */
  checkSubmission?: (submission: Submission) => void
}

export function blockProblem (block: Block, ctx: BlockContext): string | undefined {
  const h = block.header
  const { tip, params, now } = ctx
  if (h.chainId !== ctx.chainId) return 'wrong chain id'
  if (!equalBytes(h.genesisHash, ctx.genesisHash)) return 'genesis hash is not this network\'s'
  if (h.height !== tip.height + 1) return `height ${h.height} does not follow ${tip.height}`
  if (!equalBytes(h.prevHash, tip.hash)) return 'previous hash does not match the chain'
  if (h.time < tip.time) return 'time goes backwards'
  if (h.time > now + params.maxClockDriftMs) return 'time too far in the future'
  if (params.maxBlockTimeLagMs !== undefined && Number.isFinite(now) && ctx.reproposed !== true && h.time < now - params.maxBlockTimeLagMs) return 'time too far in the past'
  if (h.proposer >= ctx.validators) return 'proposer is not a validator'
  const count = totalEntries(block.submissions)
  if (h.entryCount !== count) return 'entry count does not match the submissions'
  if (count > params.maxBlockEntries) return 'too many entries'
  const seen = new Set<string>()
  for (const s of block.submissions) {
    for (let i = 0; i < entryCount(s); i++) {
      const key = idKey(entryAt(s, i))
      if (seen.has(key)) return 'an entry appears twice'
      seen.add(key)
    }
  }
  if (!equalBytes(entriesRoot(block.submissions), h.entriesRoot)) return 'entries root does not match the submissions'
  if (ctx.checkSubmission !== undefined) {
    for (const s of block.submissions) {
      try {
        ctx.checkSubmission(s)
      } catch (err) {
        if (err instanceof TrustnetError) return `a submission is refused: ${err.message}`
        throw err
      }
    }
  }
  const isCommitted = ctx.isCommitted
  if (isCommitted !== undefined) {
    for (const s of block.submissions) for (let i = 0; i < entryCount(s); i++) if (isCommitted(entryAt(s, i))) return 'an entry is already on chain'
  }
  return undefined
}

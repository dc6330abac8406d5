/**
 * Building a block from pending records and checking a proposed one against the chain it
 * extends: height, previous hash, time, proposer, record count, Merkle root, no record twice in
 * the block nor one already on chain. Returns a reason instead of throwing: an invalid block is
 * voted nil, not an error of the sender's message.
 */
import { equalBytes } from './codec.js'
import { idKey, recordId } from './ids.js'
import { merkleRoot } from './merkle.js'
import type { Block, BlockHeader, ConsensusParams, LedgerRecord } from './types.js'

/** What a block must extend: the last committed header's hash and time (the genesis at height 0). */
export interface ChainTip { height: number, hash: Uint8Array, time: number }

// A block's records are never changed once it is built, so the root over them is computed once
// per records array: a proposal's assembly and its block check share it.
const roots = new WeakMap<readonly LedgerRecord[], Uint8Array>()

/** The Merkle root over the ids of `records`, in order; `ids` if the caller has them at hand. */
export function recordsRoot (records: readonly LedgerRecord[], ids?: readonly Uint8Array[]): Uint8Array {
  let root = roots.get(records)
  if (root === undefined) {
    root = merkleRoot(ids ?? records.map(recordId))
    roots.set(records, root)
  }
  return root
}

export function buildBlock (chainId: string, tip: ChainTip, proposer: number, time: number, records: LedgerRecord[], ids?: Uint8Array[]): Block {
  const header: BlockHeader = {
    chainId,
    height: tip.height + 1,
    prevHash: tip.hash,
    time: Math.max(time, tip.time),
    proposer,
    recordsRoot: recordsRoot(records, ids),
    recordCount: records.length
  }
  return { header, records }
}

/** What a block is judged against. */
export interface BlockContext {
  chainId: string
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
  /** Whether a record id is already on chain; omitted, only the block itself is looked at. */
  isCommitted?: (id: Uint8Array) => boolean
}

export function blockProblem (block: Block, ctx: BlockContext): string | undefined {
  const h = block.header
  const { tip, params, now } = ctx
  if (h.chainId !== ctx.chainId) return 'wrong chain id'
  if (h.height !== tip.height + 1) return `height ${h.height} does not follow ${tip.height}`
  if (!equalBytes(h.prevHash, tip.hash)) return 'previous hash does not match the chain'
  if (h.time < tip.time) return 'time goes backwards'
  if (h.time > now + params.maxClockDriftMs) return 'time too far in the future'
  if (params.maxBlockTimeLagMs !== undefined && Number.isFinite(now) && ctx.reproposed !== true && h.time < now - params.maxBlockTimeLagMs) return 'time too far in the past'
  if (h.proposer >= ctx.validators) return 'proposer is not a validator'
  if (h.recordCount !== block.records.length) return 'record count does not match the records'
  if (block.records.length > params.maxBlockRecords) return 'too many records'
  const ids = block.records.map(recordId)
  if (new Set(ids.map(idKey)).size !== ids.length) return 'a record appears twice'
  if (!equalBytes(recordsRoot(block.records, ids), h.recordsRoot)) return 'records root does not match the records'
  const isCommitted = ctx.isCommitted
  if (isCommitted !== undefined && ids.some(id => isCommitted(id))) return 'a record is already on chain'
  return undefined
}

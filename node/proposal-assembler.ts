/**
 * Rebuilds a full proposal from its compact form (signed header + record ids): records come from
 * this node's mempool or chain, and the few it lacks are fetched from the peers that have them
 * (the relaying peer, the proposer). Ids are checked against the signed header's Merkle root
 * first, and each fetched record against its id, so a peer can delay a block but never alter it.
 */
import { recordsRoot } from '../consensus/block.js'
import { equalBytes } from '../consensus/codec.js'
import { invalid, rejected } from '../consensus/errors.js'
import { recordId } from '../consensus/ids.js'
import { merkleRoot } from '../consensus/merkle.js'
import type { LedgerRecord, Proposal } from '../consensus/types.js'
import type { CompactProposal } from './gossip-envelope.js'

export interface AssemblerDeps {
  /** A record this node already holds, if any. */
  local: (id: Uint8Array) => LedgerRecord | undefined
  /** Ask one peer for records; entries it does not hold come back null. */
  fetch: (peer: string, ids: Uint8Array[]) => Promise<Array<LedgerRecord | null>>
}

export async function assembleProposal (compact: CompactProposal, peers: string[], deps: AssemblerDeps): Promise<Proposal> {
  const { header, ids } = compact
  if (ids.length !== header.recordCount) throw invalid('INVALID_BLOCK', 'record id count differs from the header')
  const records: Array<LedgerRecord | undefined> = ids.map(id => deps.local(id))
  // Before asking peers, make sure the ids are the signed ones; with every record at hand, the
  // check over the records below covers them (and is remembered for the block check).
  const missingAny = records.includes(undefined)
  if (missingAny && !equalBytes(merkleRoot(ids), header.recordsRoot)) throw invalid('INVALID_BLOCK', 'record ids do not match the records root')
  for (const peer of missingAny ? new Set(peers) : []) {
    const missing = records.flatMap((r, i) => r === undefined ? [i] : [])
    if (missing.length === 0) break
    const fetched = await deps.fetch(peer, missing.map(i => ids[i] as Uint8Array)).catch(() => [])
    missing.forEach((index, k) => {
      const record = fetched[k]
      // A record counts only if it is the one the signed header names.
      if (record != null && equalBytes(recordId(record), ids[index] as Uint8Array)) records[index] = record
    })
  }
  if (records.includes(undefined)) throw rejected('INVALID_BLOCK', 'records of the proposal are unavailable')
  if (!equalBytes(recordsRoot(records as LedgerRecord[]), header.recordsRoot)) throw invalid('INVALID_BLOCK', 'record ids do not match the records root')
  return {
    height: compact.height,
    round: compact.round,
    validRound: compact.validRound,
    block: { header, records: records as LedgerRecord[] },
    signature: compact.signature
  }
}

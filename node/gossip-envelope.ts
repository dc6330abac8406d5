/**
 * What travels on the gossip topics. Proposals travel compact: the signed header and the record
 * ids, not the records, since services hand every record to every validator already; a validator
 * rebuilds the block from its mempool and fetches only what it lacks. The resend counter exists
 * because gossipsub drops bytes it has seen in the last two minutes, even when we publish them
 * ourselves: the periodic re-sending that heals lost messages must change the bytes.
 */
import { z } from 'zod'
import { addQuickCheck, decode, encode } from '../consensus/codec.js'
import { recordId } from '../consensus/ids.js'
import { LIMITS } from '../consensus/limits.js'
import { hasExactly, isHashList } from '../consensus/record-check.js'
import { BlockHeaderSchema, ConsensusMessageSchema, hash32, height, round, signature, uint, type ConsensusMessage, type Proposal } from '../consensus/types.js'

/** A compact proposal but for its record ids. */
const CompactProposalHeadSchema = z.strictObject({
  height,
  round,
  validRound: z.number().int().min(-1).max(LIMITS.roundCeiling),
  header: BlockHeaderSchema,
  signature
})
export const CompactProposalSchema = CompactProposalHeadSchema.extend({ ids: z.array(hash32).max(LIMITS.blockRecordsCeiling) })
export type CompactProposal = z.infer<typeof CompactProposalSchema>

const GossipEnvelopeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('message'), message: ConsensusMessageSchema, resend: uint }),
  z.strictObject({ kind: z.literal('compact-proposal'), proposal: CompactProposalSchema, resend: uint })
])
export type GossipEnvelope = z.infer<typeof GossipEnvelopeSchema>
// Every validator decodes every proposal and its thousands of ids: the ids are checked here,
// the rest by the schema.
addQuickCheck(GossipEnvelopeSchema, value => {
  if (!hasExactly(value, ['kind', 'proposal', 'resend']) || value.kind !== 'compact-proposal' || !uint.safeParse(value.resend).success) return false
  if (!hasExactly(value.proposal, ['height', 'round', 'validRound', 'header', 'ids', 'signature'])) return false
  const { ids, ...head } = value.proposal
  return isHashList(ids, LIMITS.blockRecordsCeiling) && CompactProposalHeadSchema.safeParse(head).success
})

export function toCompact (p: Proposal): CompactProposal {
  return { height: p.height, round: p.round, validRound: p.validRound, header: p.block.header, ids: p.block.records.map(recordId), signature: p.signature }
}

export function encodeEnvelope (message: ConsensusMessage, resend: number): Uint8Array {
  return message.type === 'proposal'
    ? encode({ kind: 'compact-proposal', proposal: toCompact(message.proposal), resend })
    : encode({ kind: 'message', message, resend })
}

/** Throws InvalidInputError like every decoder of the core. */
export function decodeEnvelope (bytes: Uint8Array): GossipEnvelope {
  return decode(GossipEnvelopeSchema, bytes, LIMITS.messageBytes + 64)
}

/**
 * What travels on the gossip topics: a consensus message, whole (a proposal carries its
 * submissions, about 650 KB for 20,000 entries), and a resend counter. The counter exists because
 * gossipsub drops bytes it has seen in the last two minutes, even when we publish them ourselves:
 * the periodic re-sending that heals lost messages must change the bytes.
 */
import { z } from 'zod'
import { decode, encode } from '../consensus/codec.js'
import { LIMITS } from '../consensus/limits.js'
import { ConsensusMessageSchema, uint, type ConsensusMessage } from '../consensus/types.js'

const GossipEnvelopeSchema = z.strictObject({ message: ConsensusMessageSchema, resend: uint })
export type GossipEnvelope = z.infer<typeof GossipEnvelopeSchema>

export function encodeEnvelope (message: ConsensusMessage, resend: number): Uint8Array {
  return encode({ message, resend })
}

/** Throws InvalidInputError like every decoder of the core. */
export function decodeEnvelope (bytes: Uint8Array): GossipEnvelope {
  return decode(GossipEnvelopeSchema, bytes, LIMITS.messageBytes + 64)
}

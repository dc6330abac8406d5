/**
 * What travels on the gossip topics: a consensus message and a resend counter. Gossipsub drops
 * bytes it has seen in the last two minutes, even when we publish them ourselves; the periodic
 * re-sending that heals lost messages must therefore change the bytes, and the counter does.
 */
import { z } from 'zod'
import { decode, encode } from '../consensus/codec.js'
import { LIMITS } from '../consensus/limits.js'
import { ConsensusMessageSchema, uint, type ConsensusMessage } from '../consensus/types.js'

const GossipEnvelopeSchema = z.strictObject({ message: ConsensusMessageSchema, resend: uint })

export function encodeEnvelope (message: ConsensusMessage, resend: number): Uint8Array {
  return encode({ message, resend })
}

/** Throws InvalidInputError like every decoder of the core. */
export function decodeEnvelope (bytes: Uint8Array): ConsensusMessage {
  return decode(GossipEnvelopeSchema, bytes, LIMITS.messageBytes + 64).message
}

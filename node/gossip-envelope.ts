/**
 * What travels on the gossip topics: a consensus message, whole (a proposal carries its
 * submissions, about 650 KB for 20,000 entries), and a resend counter. The counter exists because
 * gossipsub drops bytes it has seen in the last two minutes, even when we publish them ourselves:
 * the periodic re-sending that heals lost messages must change the bytes. And who may send what:
 * each peer's budget on each topic, and a service's gossip limited to its own submissions.
 */
import { z } from 'zod'
import { decode, encode } from '../consensus/codec.js'
import { LIMITS } from '../consensus/limits.js'
import { ConsensusMessageSchema, uint, type ConsensusMessage } from '../consensus/types.js'
import type { GossipLimit } from '../net/gossip-budget.js'

const GossipEnvelopeSchema = z.strictObject({ message: ConsensusMessageSchema, resend: uint })
export type GossipEnvelope = z.infer<typeof GossipEnvelopeSchema>

export function encodeEnvelope (message: ConsensusMessage, resend: number): Uint8Array {
  return encode({ message, resend })
}

/** Throws InvalidInputError like every decoder of the core. */
export function decodeEnvelope (bytes: Uint8Array): GossipEnvelope {
  return decode(GossipEnvelopeSchema, bytes, LIMITS.messageBytes + 64)
}

/**
 * What a peer may send us per topic before its messages are ignored. A validator's budget carries
 * a full proposal (LIMITS.messageBytes) twice over and the resends of a busy network; a service
 * submits through the submit protocol and needs gossip for little more than its own submissions
 * (a gossip message holds at most 64 of 1000 entries: about 2 MiB).
 */
export const GOSSIP_LIMITS: Readonly<Record<'validator' | 'service', GossipLimit>> = {
  validator: { messagesPerSecond: 2000, burstMessages: 4000, bytesPerSecond: 32 * 1024 * 1024, burstBytes: 2 * (LIMITS.messageBytes + 64) },
  service: { messagesPerSecond: 20, burstMessages: 40, bytesPerSecond: 1024 * 1024, burstBytes: 4 * 1024 * 1024 }
}

/** Why a service may not have sent this message; undefined when it may. */
export type ServiceGossipRefusal = 'not-a-service-message' | 'wrong-service'

/**
 * A service gossips submissions it signed itself, nothing else: it relays neither consensus
 * messages nor another service's submissions (validators relay those, after checking them). A
 * service's libp2p key is its registered key, so the peer that sent a message names its index.
 */
export function serviceGossipRefusal (service: number, message: ConsensusMessage): ServiceGossipRefusal | undefined {
  if (message.type !== 'submissions') return 'not-a-service-message'
  return message.submissions.every(s => s.service === service) ? undefined : 'wrong-service'
}

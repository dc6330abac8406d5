/**
 * The wire boundary of the core: consensus messages to and from canonical bytes. Decoding applies
 * every stateless check (size, canonical form, schema); signatures are checked by the machine,
 * which knows the validator set.
 */
import { decode, encode } from './codec.js'
import { LIMITS } from './limits.js'
import { ConsensusMessageSchema, type ConsensusMessage } from './types.js'

export function encodeMessage (message: ConsensusMessage): Uint8Array {
  return encode(message)
}

export function decodeMessage (bytes: Uint8Array, maxBytes: number = LIMITS.messageBytes): ConsensusMessage {
  return decode(ConsensusMessageSchema, bytes, maxBytes)
}

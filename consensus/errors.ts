/**
 * Typed errors of the consensus core. Every refusal carries a stable `code` (asserted by tests and
 * mapped to wire answers by the node) and optional details; messages are for humans only.
 */
import { CodedError, type ErrorDetails } from '../lib/errors.js'

export type ErrorCode =
  // decoding and shape
  | 'MALFORMED'
  | 'NON_CANONICAL'
  | 'OVERSIZED'
  | 'INVALID_FIELD'
  // identity and signatures
  | 'UNKNOWN_VALIDATOR'
  | 'UNKNOWN_SERVICE'
  | 'BAD_SIGNATURE'
  | 'WRONG_CHAIN'
  | 'WRONG_GENESIS'
  | 'GENESIS_PIN_MISMATCH'
  | 'INVALID_PIN'
  | 'WRONG_PROPOSER'
  // protocol state
  | 'WRONG_HEIGHT'
  | 'WRONG_ROUND'
  | 'INVALID_BLOCK'
  | 'INVALID_RECORD'
  | 'ENTRY_MISMATCH'
  | 'INVALID_COMMIT'
  | 'INVALID_PROOF'
  | 'DUPLICATE'
  | 'EQUIVOCATION'
  | 'MEMPOOL_FULL'
  | 'SERVICE_QUOTA'
  | 'INVALID_GENESIS'

/** A refusal by the consensus core (and the node's config checks, which share its codes). */
export class TrustnetError extends CodedError<ErrorCode> {
  override readonly name: string = 'TrustnetError'
}

/** Input refused before it touched any state: decoding, shape, signature or identity checks. */
export class InvalidInputError extends TrustnetError {
  override readonly name = 'InvalidInputError'
}

/** Input well-formed but not acceptable in the machine's current state. */
export class RejectedInputError extends TrustnetError {
  override readonly name = 'RejectedInputError'
}

export function invalid (code: ErrorCode, message: string, details?: ErrorDetails): InvalidInputError {
  return new InvalidInputError(code, message, details)
}

export function rejected (code: ErrorCode, message: string, details?: ErrorDetails): RejectedInputError {
  return new RejectedInputError(code, message, details)
}

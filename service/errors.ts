/**
 * Typed errors of the service. Each has a stable `name` and `code` that callers, the HTTP layer
 * and tests match on (never the message), plus optional `details` for logs. The HTTP layer maps
 * them to status codes in one place (http-errors.ts). Config files are refused with lib's
 * ConfigError.
 */
import { CodedError, type ErrorDetails } from '../lib/errors.js'

export type ServiceErrorCode =
  | 'NODES_UNAVAILABLE'
  | 'QUORUM_UNAVAILABLE'
  | 'STOPPED'
  | 'SUBMISSION_REFUSED'

export class ServiceError extends CodedError<ServiceErrorCode> {
  override readonly name: string = 'ServiceError'
}

/** No configured node gave a usable answer (all down, unreachable, or answering garbage). */
export class NodesUnavailableError extends ServiceError {
  override readonly name = 'NodesUnavailableError'
  constructor (message: string, details?: ErrorDetails) {
    super('NODES_UNAVAILABLE', message, details)
  }
}

/** Fewer than a quorum of distinct validators gave a valid signed answer. */
export class QuorumUnavailableError extends ServiceError {
  override readonly name = 'QuorumUnavailableError'
  constructor (message: string, details?: ErrorDetails) {
    super('QUORUM_UNAVAILABLE', message, details)
  }
}

/** The component was stopped while the call was in progress, or before it was made. */
export class StoppedError extends ServiceError {
  override readonly name = 'StoppedError'
  constructor (message = 'the service is stopping') {
    super('STOPPED', message)
  }
}

/**
 * The validators refuse the service itself (its key is not registered, or its signatures do not
 * check): no retry can cure it until the genesis or the service's configuration is fixed.
 * `details.reason` holds the nodes' code (UNKNOWN_SERVICE, BAD_SIGNATURE).
 */
export class SubmissionRefusedError extends ServiceError {
  override readonly name = 'SubmissionRefusedError'
  constructor (readonly reason: string, message: string) {
    super('SUBMISSION_REFUSED', message, { reason })
  }
}

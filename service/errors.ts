/**
 * Typed errors of the service. Each has a stable `name` and `code` that callers, the HTTP layer
 * and tests match on (never the message), plus optional `details` for logs. The HTTP layer maps
 * them to status codes in one place (http-errors.ts).
 */

export type ServiceErrorCode =
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_INVALID'
  | 'GENESIS_INVALID'
  | 'NODES_UNAVAILABLE'
  | 'QUORUM_UNAVAILABLE'
  | 'STOPPED'

export class ServiceError extends Error {
  override readonly name: string = 'ServiceError'
  readonly code: ServiceErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor (code: ServiceErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.details = details
  }
}

/** The config or genesis file is missing, unreadable, not JSON, or fails its schema. */
export class ConfigError extends ServiceError {
  override readonly name = 'ConfigError'
}

/** No configured node gave a usable answer (all down, unreachable, or answering garbage). */
export class NodesUnavailableError extends ServiceError {
  override readonly name = 'NodesUnavailableError'
  constructor (message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('NODES_UNAVAILABLE', message, details, options)
  }
}

/** Fewer than a quorum of distinct validators gave a valid signed answer. */
export class QuorumUnavailableError extends ServiceError {
  override readonly name = 'QuorumUnavailableError'
  constructor (message: string, details?: Record<string, unknown>) {
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

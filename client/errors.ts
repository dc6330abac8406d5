/**
 * What the client library throws: one class per kind of failure, each with a stable `name` and
 * `code` to match on (messages are for people). A refusal by the service keeps the HTTP status
 * and the API's own code (the service alone judges arguments); failures on the way (unreachable,
 * unreadable answer, aborted) and a genesis missing or unreadable have their own.
 */
import { CodedError } from '../lib/errors.js'

export class TrustnetClientError<Code extends string = string> extends CodedError<Code> {
  override readonly name: string = 'TrustnetClientError'
}

/** The service refused the request; `code` is the API's (UNAUTHORIZED, NOT_FOUND, INVALID_HEX...). */
export class ApiError extends TrustnetClientError {
  override readonly name: string = 'ApiError'
  constructor (readonly status: number, code: string, message: string) {
    super(code, message, { status })
  }
}

/** The service could not be reached (refused connection, DNS, TLS, reset). */
export class NetworkError extends TrustnetClientError<'NETWORK_ERROR'> {
  override readonly name = 'NetworkError'
  constructor (message: string, cause: unknown) {
    super('NETWORK_ERROR', message, undefined, { cause })
  }
}

/** The service answered something that is not the API's answer (not JSON, or not its shape). */
export class BadResponseError extends TrustnetClientError<'BAD_RESPONSE'> {
  override readonly name = 'BadResponseError'
  constructor (message: string, cause?: unknown) {
    super('BAD_RESPONSE', message, undefined, { cause })
  }
}

/** The caller's AbortSignal fired; `cause` is its reason (a TimeoutError for AbortSignal.timeout). */
export class AbortedError extends TrustnetClientError<'ABORTED'> {
  override readonly name = 'AbortedError'
  constructor (reason: unknown) {
    super('ABORTED', 'the call was aborted', undefined, { cause: reason })
  }
}

/**
 * The genesis given is not a valid genesis (INVALID_GENESIS), none was given where the call needs
 * one to check signatures (GENESIS_REQUIRED), or it is not the one pinned by its fingerprint
 * (GENESIS_PIN_MISMATCH; INVALID_PIN when the pin is not a fingerprint).
 */
export class GenesisError extends TrustnetClientError<'INVALID_GENESIS' | 'GENESIS_REQUIRED' | 'GENESIS_PIN_MISMATCH' | 'INVALID_PIN'> {
  override readonly name = 'GenesisError'
}

/**
 * Typed errors of the network layer. Each class has a stable `name` and `code` that callers and
 * tests match on (never the message), plus optional `details` for logs. Errors raised by libp2p
 * are translated into these at the boundary of request-response and gossip, so the rest of the
 * node never depends on libp2p's own error names.
 */

export class NetError extends Error {
  readonly code: string
  readonly details: Record<string, unknown> | undefined

  constructor (code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.details = details
  }
}

/** The request frame is larger than the receiving side accepts. */
export class RequestTooLargeError extends NetError {
  override readonly name = 'RequestTooLargeError'
  constructor (message = 'request too large', details?: Record<string, unknown>) {
    super('ERR_REQUEST_TOO_LARGE', message, details)
  }
}

/** The response frame is larger than the caller accepts. */
export class ResponseTooLargeError extends NetError {
  override readonly name = 'ResponseTooLargeError'
  constructor (message = 'response too large', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('ERR_RESPONSE_TOO_LARGE', message, details, options)
  }
}

/** No complete response within the time allowed (dial included). */
export class RequestTimeoutError extends NetError {
  override readonly name = 'RequestTimeoutError'
  constructor (message = 'request timed out', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('ERR_REQUEST_TIMEOUT', message, details, options)
  }
}

/** The caller's own AbortSignal fired. */
export class AbortedError extends NetError {
  override readonly name = 'AbortedError'
  constructor (message = 'aborted', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('ERR_ABORTED', message, details, options)
  }
}

/** No connection could be made to the peer (unknown, unreachable, refused or gated). */
export class PeerUnreachableError extends NetError {
  override readonly name = 'PeerUnreachableError'
  constructor (message = 'peer unreachable', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('ERR_PEER_UNREACHABLE', message, details, options)
  }
}

/** The remote broke the protocol: unsupported protocol, malformed or truncated frame, reset. */
export class ProtocolError extends NetError {
  override readonly name = 'ProtocolError'
  constructor (message = 'protocol error', details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', message, details, options)
  }
}

/** The remote handler failed while serving the request. */
export class RemoteHandlerError extends NetError {
  override readonly name = 'RemoteHandlerError'
  constructor (message = 'remote handler failed', details?: Record<string, unknown>) {
    super('ERR_REMOTE_HANDLER', message, details)
  }
}

/** Too many bytes are already waiting to be published; the caller should slow down. */
export class PublishQueueFullError extends NetError {
  override readonly name = 'PublishQueueFullError'
  constructor (message = 'publish queue full', details?: Record<string, unknown>) {
    super('ERR_PUBLISH_QUEUE_FULL', message, details)
  }
}

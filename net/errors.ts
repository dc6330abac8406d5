/**
 * Typed errors of the network layer. Each class has a stable `name` and `code` that callers and
 * tests match on (never the message), plus optional `details` for logs. Errors raised by libp2p
 * are translated into these at the boundary of request-response and gossip, so the rest of the
 * node never depends on libp2p's own error names.
 */
import { CodedError, type ErrorDetails } from '../lib/errors.js'

export class NetError extends CodedError {
  override readonly name: string = 'NetError'
}

/** A NetError subclass of its own name and code; the message is the caller's. */
function netError<Name extends string> (name: Name, code: string) {
  return class extends NetError {
    override readonly name: Name = name
    constructor (message: string, details?: ErrorDetails, options?: ErrorOptions) {
      super(code, message, details, options)
    }
  }
}

/** The request frame is larger than the receiving side accepts. */
export const RequestTooLargeError = netError('RequestTooLargeError', 'ERR_REQUEST_TOO_LARGE')
/** The response frame is larger than the caller accepts. */
export const ResponseTooLargeError = netError('ResponseTooLargeError', 'ERR_RESPONSE_TOO_LARGE')
/** No complete response within the time allowed (dial included). */
export const RequestTimeoutError = netError('RequestTimeoutError', 'ERR_REQUEST_TIMEOUT')
/** The caller's own AbortSignal fired. */
export const AbortedError = netError('AbortedError', 'ERR_ABORTED')
/** No connection could be made to the peer (unknown, unreachable, refused or gated). */
export const PeerUnreachableError = netError('PeerUnreachableError', 'ERR_PEER_UNREACHABLE')
/** The remote broke the protocol: unsupported protocol, malformed or truncated frame, reset. */
export const ProtocolError = netError('ProtocolError', 'ERR_PROTOCOL')
/** The remote handler failed while serving the request. */
export const RemoteHandlerError = netError('RemoteHandlerError', 'ERR_REMOTE_HANDLER')
/** Too many bytes are already waiting to be published; the caller should slow down. */
export const PublishQueueFullError = netError('PublishQueueFullError', 'ERR_PUBLISH_QUEUE_FULL')

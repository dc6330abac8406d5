/**
 * The HTTP face of every failure: one class for refusals raised by route handlers, and one
 * function that maps any error (ours, fastify's, the node client's) to a status and a stable code
 * for the `{ "error": { "code", "message" } }` body. Anything unexpected is a 500 that says nothing.
 * Refusals made by Node's HTTP parser before fastify sees a request (timeouts, oversized
 * headers, bytes that are not HTTP) get the same body from lib/http-door.ts.
 */
import { CodedError } from '../lib/errors.js'
import { ServiceError } from './errors.js'

export type HttpErrorCode =
  | 'BAD_REQUEST' | 'MALFORMED_JSON' | 'INVALID_HEX' | 'INVALID_ID' | 'INVALID_FIELD'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'URI_TOO_LONG' | 'UNSUPPORTED_MEDIA_TYPE' | 'REQUEST_TIMEOUT' | 'HEADERS_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'NOT_CERTIFIED' | 'NO_DATA'
  | 'PAYLOAD_TOO_LARGE'
  | 'NODES_UNAVAILABLE' | 'QUORUM_UNAVAILABLE' | 'STOPPED'
  | 'INTERNAL'

export class HttpError extends CodedError<HttpErrorCode> {
  override readonly name = 'HttpError'
  constructor (readonly status: number, code: HttpErrorCode, message: string) {
    super(code, message)
  }
}

export const badRequest = (code: HttpErrorCode, message: string): HttpError => new HttpError(400, code, message)
export const notFound = (message = 'no item with this id'): HttpError => new HttpError(404, 'NOT_FOUND', message)
export const conflict = (code: HttpErrorCode, message: string): HttpError => new HttpError(409, code, message)
export const unauthorized = (message: string): HttpError => new HttpError(401, 'UNAUTHORIZED', message)
/** 429; the caller sets Retry-After. */
export const rateLimited = (message: string): HttpError => new HttpError(429, 'RATE_LIMITED', message)

export interface ErrorReply { status: number, code: HttpErrorCode, message: string }

export function toErrorReply (err: unknown): ErrorReply {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message }
  if (err instanceof ServiceError) {
    if (err.code === 'NODES_UNAVAILABLE' || err.code === 'QUORUM_UNAVAILABLE' || err.code === 'STOPPED') {
      return { status: 503, code: err.code, message: err.message }
    }
  }
  const status = (err as { statusCode?: unknown }).statusCode
  const code = (err as { code?: unknown }).code
  // Fastify's own refusals (body limit, content type, content length), raised before a handler runs.
  if (typeof code === 'string' && code.startsWith('FST_') && typeof status === 'number') {
    if (status === 413) return { status, code: 'PAYLOAD_TOO_LARGE', message: 'request body is too large' }
    if (status === 414) return { status, code: 'URI_TOO_LONG', message: 'a path parameter is too long' }
    if (status === 415) return { status, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content type' }
    if (status === 503) return { status, code: 'STOPPED', message: 'the service is stopping' }
    if (status >= 400 && status < 500) return { status: 400, code: 'BAD_REQUEST', message: (err as Error).message }
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error' }
}

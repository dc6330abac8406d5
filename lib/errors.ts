/**
 * The one base class of every typed error in trustnet: a stable `name` per class and a stable
 * `code` per kind of failure (what callers, wire answers and tests match on; messages are for
 * humans only), optional `details` for logs, and the standard `cause`. Each layer declares its
 * own subclasses and codes (consensus/errors.ts, net/errors.ts, service/errors.ts).
 */

export type ErrorDetails = Record<string, unknown>

export class CodedError<Code extends string = string> extends Error {
  override readonly name: string = 'CodedError'
  readonly code: Code
  readonly details: ErrorDetails | undefined

  constructor (code: Code, message: string, details?: ErrorDetails, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.details = details
  }
}

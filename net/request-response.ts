/**
 * Generic request/response over libp2p streams: one stream per request, carrying one
 * length-prefixed request frame and one length-prefixed response frame. The response frame
 * starts with a status byte, so a server can refuse an oversized or failing request with a
 * typed answer instead of a bare reset. Both sides bound frame sizes before reading a body and
 * bound the whole exchange in time. Requests of one protocol to one peer go out at most as many
 * at a time as the peer takes streams (libp2p's own Queue); the rest wait their turn, within
 * their deadline (the caller's signal and a timeout, merged). Failures reach callers as the
 * typed errors of errors.ts.
 */

import { setMaxListeners } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream, Queue, type LengthPrefixedStream } from '@libp2p/utils'
import { CODE_P2P, isMultiaddr, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  AbortedError, NetError, PeerUnreachableError, ProtocolError, RemoteHandlerError,
  RequestTimeoutError, RequestTooLargeError, ResponseTooLargeError
} from './errors.js'
import { BoundedMap } from '../lib/bounded-map.js'
import type { ErrorDetails } from '../lib/errors.js'
import type { Libp2p, Logger, PeerId, Stream } from '@libp2p/interface'

export type RequestHandler = (req: Uint8Array, fromPeer: string, opts: { signal: AbortSignal }) => Promise<Uint8Array>
/** A peer id string, a PeerId, or a multiaddr (string starting with '/' or object). */
export type RequestTarget = string | PeerId | Multiaddr

export interface HandleOptions {
  /** Larger requests are refused with RequestTooLargeError on the caller's side. @default 1 MiB */
  maxRequestBytes?: number
  /** Time allowed to read the request, run the handler and send the answer. @default 10_000 */
  timeoutMs?: number
  /** Concurrent inbound streams per connection for this protocol. @default libp2p's (32) */
  maxInboundStreams?: number
}

export interface RequestResponseInit {
  /**
   * Requests of one protocol in flight to one peer; more wait their turn (within their deadline).
   * A libp2p host takes 32 inbound streams of a protocol per connection unless told otherwise,
   * and resets the streams beyond: a burst of requests (a hundred verifications at once, say)
   * would otherwise fail there. @default 32
   */
  maxRequestsPerPeer?: number
}

export interface RequestOptions {
  signal?: AbortSignal
  /** @default 4 MiB */
  maxResponseBytes?: number
  /** Covers dialling, sending and the whole response. @default 10_000 */
  timeoutMs?: number
}

/** First byte of every response frame. */
const Status = { Ok: 0, TooLarge: 1, BadRequest: 2, HandlerFailed: 3 } as const
type Status = typeof Status[keyof typeof Status]

const MiB = 1024 * 1024

export class RequestResponse {
  private readonly log: Logger
  private readonly parsed = new BoundedMap<string, { dialTarget: PeerId | Multiaddr, peer: PeerId | undefined }>(1024)
  private readonly maxRequestsPerPeer: number
  /** By protocol and peer: the requests in flight and those waiting for a turn. */
  private readonly queues = new Map<string, Queue<Uint8Array>>()

  constructor (private readonly node: Libp2p, init: RequestResponseInit = {}) {
    this.log = node.logger.forComponent('trustnet:request-response')
    this.maxRequestsPerPeer = init.maxRequestsPerPeer ?? 32
  }

  async handle (protocol: string, handler: RequestHandler, opts: HandleOptions = {}): Promise<void> {
    const maxRequestBytes = opts.maxRequestBytes ?? MiB
    const timeoutMs = opts.timeoutMs ?? 10_000
    await this.node.handle(protocol, async (stream, connection) => {
      await this.serve(stream, connection.remotePeer.toString(), handler, maxRequestBytes, timeoutMs)
    }, opts.maxInboundStreams != null ? { maxInboundStreams: opts.maxInboundStreams } : {})
  }

  async unhandle (protocol: string): Promise<void> {
    await this.node.unhandle(protocol)
  }

  async request (target: RequestTarget, protocol: string, req: Uint8Array, opts: RequestOptions = {}): Promise<Uint8Array> {
    const timeoutMs = opts.timeoutMs ?? 10_000
    const details = { protocol, target: target.toString(), timeoutMs }
    const deadline = new Deadline(timeoutMs, opts.signal)
    const peer = (this.parse(target).peer ?? target).toString()
    try {
      return await this.queueOf(`${protocol} ${peer}`).add(async () => {
        const stream = await this.open(target, protocol, deadline, details)
        return await this.exchange(stream, req, opts.maxResponseBytes ?? 4 * MiB, deadline, details)
      }, { signal: deadline.signal })
    } catch (err) {
      // A request still waiting for its turn, or cut short while running, fails with the signal's reason.
      throw deadline.failure(err, details) ?? err
    }
  }

  /** The queue of requests under `key` (protocol and peer), at most maxRequestsPerPeer running; dropped once idle. */
  private queueOf (key: string): Queue<Uint8Array> {
    let queue = this.queues.get(key)
    if (queue === undefined) {
      const created = new Queue<Uint8Array>({ concurrency: this.maxRequestsPerPeer })
      created.addEventListener('idle', () => {
        if (created.size === 0 && this.queues.get(key) === created) this.queues.delete(key)
      })
      this.queues.set(key, created)
      queue = created
    }
    return queue
  }

  private async open (target: RequestTarget, protocol: string, deadline: Deadline, details: ErrorDetails): Promise<Stream> {
    const { dialTarget, peer } = this.parse(target)
    // An open connection is used as it is: dialling, even to a connected peer, costs more than the request.
    let connection = peer === undefined ? undefined : this.node.getConnections(peer).find(c => c.status === 'open')
    if (connection === undefined) {
      try {
        connection = await this.node.dial(dialTarget, { signal: deadline.signal })
      } catch (err) {
        throw deadline.failure(err, details) ?? new PeerUnreachableError('could not reach peer', details, { cause: err })
      }
    }
    try {
      return await connection.newStream(protocol, { signal: deadline.signal })
    } catch (err) {
      const failure = deadline.failure(err, details)
      if (failure != null) throw failure
      // A gating peer completes the handshake, then closes the connection.
      if (connection.status !== 'open') throw new PeerUnreachableError('peer closed the connection', details, { cause: err })
      if (errorName(err) === 'UnsupportedProtocolError') throw new ProtocolError('protocol not supported by peer', details, { cause: err })
      throw new ProtocolError('could not open a stream', details, { cause: err })
    }
  }

  /** What to dial, and the peer it names (if known), parsed once per target string. */
  private parse (target: RequestTarget): { dialTarget: PeerId | Multiaddr, peer: PeerId | undefined } {
    if (typeof target !== 'string') return { dialTarget: target, peer: isMultiaddr(target) ? peerOf(target) : target }
    let parsed = this.parsed.get(target)
    if (parsed === undefined) {
      const dialTarget = target.startsWith('/') ? multiaddr(target) : peerIdFromString(target)
      parsed = { dialTarget, peer: isMultiaddr(dialTarget) ? peerOf(dialTarget) : dialTarget }
      this.parsed.set(target, parsed)
    }
    return parsed
  }

  private async exchange (stream: Stream, req: Uint8Array, maxResponseBytes: number, deadline: Deadline, details: ErrorDetails): Promise<Uint8Array> {
    const signal = deadline.signal
    // +1 for the status byte.
    const lp = lpStream(stream, { maxDataLength: maxResponseBytes + 1 })
    // Read concurrently with the write: a server refusing a large request answers before
    // reading it all, and our write may be stuck on flow control until we stop.
    const response = lp.read({ signal })
    const sent = (async () => {
      await lp.write(req, { signal })
      await stream.close({ signal })
    })()
    sent.catch(() => {})

    let frame: Uint8Array
    try {
      frame = (await response).subarray()
    } catch (err) {
      const failure = deadline.failure(err, details) ?? readFailure(err, details)
      stream.abort(failure)
      throw failure
    }
    const status = frame[0]
    if (status === Status.Ok) return frame.subarray(1)
    const failure = statusFailure(status, details)
    stream.abort(failure)
    throw failure
  }

  private async serve (stream: Stream, fromPeer: string, handler: RequestHandler, maxRequestBytes: number, timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs)
    setMaxListeners(Infinity, signal)
    const lp = lpStream(stream, { maxDataLength: maxRequestBytes })
    try {
      const answer = await this.answer(lp, fromPeer, handler, signal)
      await lp.write(answer, { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private async answer (lp: LengthPrefixedStream<Stream>, fromPeer: string, handler: RequestHandler, signal: AbortSignal): Promise<Uint8Array> {
    let req: Uint8Array
    try {
      req = (await lp.read({ signal })).subarray()
    } catch (err) {
      const name = errorName(err)
      // Refused on the length prefix alone: the body is never buffered.
      if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') return statusFrame(Status.TooLarge)
      if (name === 'InvalidMessageLengthError') return statusFrame(Status.BadRequest)
      throw err
    }
    try {
      const res = await handler(req, fromPeer, { signal })
      const frame = new Uint8Array(res.byteLength + 1)
      frame[0] = Status.Ok
      frame.set(res, 1)
      return frame
    } catch (err) {
      this.log.error('handler failed for %s - %e', fromPeer, err)
      return statusFrame(Status.HandlerFailed)
    }
  }
}

function peerOf (addr: Multiaddr): PeerId | undefined {
  const id = addr.getComponents().findLast(c => c.code === CODE_P2P)?.value
  return id === undefined ? undefined : peerIdFromString(id)
}

function statusFrame (status: Status): Uint8Array {
  return Uint8Array.of(status)
}

function statusFailure (status: number | undefined, details: ErrorDetails): NetError {
  switch (status) {
    case Status.TooLarge: return new RequestTooLargeError('peer refused request as too large', details)
    case Status.HandlerFailed: return new RemoteHandlerError('peer failed to handle request', details)
    case Status.BadRequest: return new ProtocolError('peer could not parse request', details)
    default: return new ProtocolError(`unknown response status ${String(status)}`, details)
  }
}

function readFailure (err: unknown, details: ErrorDetails): NetError {
  const name = errorName(err)
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
    return new ResponseTooLargeError('response exceeds maxResponseBytes', details, { cause: err })
  }
  return new ProtocolError(`no valid response (${name ?? 'unknown error'})`, details, { cause: err })
}

function errorName (err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined
}

/** The caller's signal merged with a timeout, and which of the two ended a request. */
class Deadline {
  readonly signal: AbortSignal
  private readonly timeout: AbortSignal

  constructor (timeoutMs: number, private readonly outer?: AbortSignal) {
    this.timeout = AbortSignal.timeout(timeoutMs)
    this.signal = outer === undefined ? this.timeout : AbortSignal.any([outer, this.timeout])
    // libp2p adds a listener per dial step and per read; the default cap of 10 warns spuriously.
    setMaxListeners(Infinity, this.signal)
  }

  /** The typed error to report when the deadline or the caller ended the request. */
  failure (cause: unknown, details: ErrorDetails): NetError | undefined {
    if (this.outer?.aborted === true) return new AbortedError('request aborted by caller', details, { cause })
    if (this.timeout.aborted) return new RequestTimeoutError('request timed out', details, { cause })
    return undefined
  }
}

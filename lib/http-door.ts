/**
 * Pieces of an HTTP server's door shared by the service and the validators: the answer to a
 * refusal Node's HTTP parser makes before fastify sees a request (a request too slow, headers too
 * large, bytes that are not HTTP), written on the raw socket in the `{ error: { code, message } }`
 * format; the server options that bound how long a request may take to arrive; and which
 * addresses are this machine's own.
 */
import { STATUS_CODES } from 'node:http'
import { BlockList, isIP, type Socket } from 'node:net'

export interface ClientErrorReply { status: number, code: 'REQUEST_TIMEOUT' | 'HEADERS_TOO_LARGE' | 'BAD_REQUEST', message: string }

/** Node's own refusals ('clientError'). */
export function clientErrorReply (err: { code?: string }): ClientErrorReply {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'REQUEST_TIMEOUT', message: 'the request did not arrive in time' }
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'request headers are too large' }
  return { status: 400, code: 'BAD_REQUEST', message: 'malformed HTTP request' }
}

/** Answers a refusal of Node's HTTP parser on the raw socket, in the API's format, and closes it. */
export function refuseOnSocket (err: Error & { code?: string }, socket: Socket): void {
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || answering?.headersSent === true) {
    socket.destroy()
    return
  }
  const { status, code, message } = clientErrorReply(err)
  const body = JSON.stringify({ error: { code, message } })
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}

export interface ServerTimeouts { headersTimeoutMs: number, requestTimeoutMs: number, keepAliveTimeoutMs: number }

/** Node's server options for these timeouts (fastify passes `http` to http.createServer). */
export function serverTimeouts (t: ServerTimeouts): { http: { connectionsCheckingInterval: number, headersTimeout: number }, requestTimeout: number, keepAliveTimeout: number } {
  // Node checks the header and request timeouts on this period: a quarter of the shorter one.
  const connectionsCheckingInterval = Math.min(30_000, Math.max(50, Math.floor(Math.min(t.headersTimeoutMs, t.requestTimeoutMs) / 4)))
  return { http: { connectionsCheckingInterval, headersTimeout: t.headersTimeoutMs }, requestTimeout: t.requestTimeoutMs, keepAliveTimeout: t.keepAliveTimeoutMs }
}

/** True for an address of this machine's loopback: 127.0.0.0/8, ::1 (also IPv4-mapped), or the name localhost. */
export function isLoopback (address: string): boolean {
  const a = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address.toLowerCase()
  return a === 'localhost' || a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)
}

/** An address, or a subnet in CIDR form (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrSubnet (text: string): boolean {
  const [address = '', bits, ...rest] = text.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
}

/** A test of whether an address is in `entries` (addresses and CIDR subnets); IPv4-mapped IPv6 addresses count as IPv4. */
export function addressMatcher (entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/')
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return address => {
    const plain = /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address
    const family = isIP(plain)
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4')
  }
}

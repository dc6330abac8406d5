/**
 * Every layer's typed errors share one base: a CodedError with a stable name, a code, details and
 * a cause, told apart by class (a net error is no consensus refusal).
 */
import { describe, expect, it } from 'vitest'
import { TrustnetError, invalid, rejected } from '../../consensus/errors.js'
import { CodedError } from '../../lib/errors.js'
import { NetError, ProtocolError, RequestTimeoutError } from '../../net/errors.js'
import { NodesUnavailableError, ServiceError, StoppedError } from '../../service/errors.js'
import { HttpError } from '../../service/http-errors.js'

const shape = (e: CodedError): { name: string, code: string, details: unknown } => ({ name: e.name, code: e.code, details: e.details })

describe('coded errors', () => {
  it('carry a stable name, a code, details and a cause in every layer', () => {
    const cause = new Error('reset')
    const net = new ProtocolError('bad frame', { protocol: '/p' }, { cause })
    expect(shape(net)).toEqual({ name: 'ProtocolError', code: 'ERR_PROTOCOL', details: { protocol: '/p' } })
    expect(net.cause).toBe(cause)
    expect(shape(new RequestTimeoutError('late'))).toEqual({ name: 'RequestTimeoutError', code: 'ERR_REQUEST_TIMEOUT', details: undefined })
    expect(shape(invalid('BAD_SIGNATURE', 'no', { validator: 2 }))).toEqual({ name: 'InvalidInputError', code: 'BAD_SIGNATURE', details: { validator: 2 } })
    expect(shape(rejected('MEMPOOL_FULL', 'full'))).toMatchObject({ name: 'RejectedInputError', code: 'MEMPOOL_FULL' })
    expect(shape(new NodesUnavailableError('none', { nodes: 4 }))).toEqual({ name: 'NodesUnavailableError', code: 'NODES_UNAVAILABLE', details: { nodes: 4 } })
    expect(shape(new StoppedError())).toMatchObject({ name: 'StoppedError', code: 'STOPPED' })
    const http = new HttpError(404, 'NOT_FOUND', 'no item')
    expect([http.status, http.name, http.code]).toEqual([404, 'HttpError', 'NOT_FOUND'])
  })

  it('are told apart by class: one base, separate families', () => {
    const errors = [new ProtocolError('x'), invalid('MALFORMED', 'x'), new StoppedError(), new HttpError(400, 'BAD_REQUEST', 'x')]
    for (const e of errors) expect(e).toBeInstanceOf(CodedError)
    expect(errors.map(e => [e instanceof NetError, e instanceof TrustnetError, e instanceof ServiceError])).toEqual([
      [true, false, false], [false, true, false], [false, false, true], [false, false, false]
    ])
    expect(new ProtocolError('x')).toBeInstanceOf(ProtocolError)
    expect(new ProtocolError('x')).not.toBeInstanceOf(RequestTimeoutError)
  })
})

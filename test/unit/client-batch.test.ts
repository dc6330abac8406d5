/**
 * How the client library reads a batch the validators refused in part for good: failed items
 * carry the validators' code and words, the batch is failed once nothing is pending, and a single
 * anchor refused for good throws an ApiError with status 409 and that code. The service's
 * answers are given by a stand-in fetch, shaped as service/http-api.ts sends them.
 */
import { describe, expect, it } from 'vitest'
import { ApiError, TrustnetClient } from '../../client/index.js'

const ID = (n: number): string => n.toString(16).padStart(64, '0')
const HASH = 'ab'.repeat(32)

function clientAnswering (status: number, body: unknown): TrustnetClient {
  const fetch = async (): Promise<Response> => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
  return new TrustnetClient({ url: 'http://service.test', apiKey: 'key', fetch })
}

const failed = (n: number): unknown => ({ id: ID(n), status: 'failed', error: { code: 'BAD_SIGNATURE', message: 'not signed by service-1' } })

describe('a batch refused for good', () => {
  it('shows each failed item with the validators\' code, and the batch as failed once none is pending', async () => {
    const result = await clientAnswering(200, { items: [failed(1), failed(2)] }).anchorBatch([HASH, HASH])
    expect(result.status).toBe('failed')
    expect(result.items).toEqual([
      { status: 'failed', id: ID(1), error: { code: 'BAD_SIGNATURE', message: 'not signed by service-1' } },
      { status: 'failed', id: ID(2), error: { code: 'BAD_SIGNATURE', message: 'not signed by service-1' } }
    ])
  })

  it('stays pending while some items are', async () => {
    const result = await clientAnswering(202, { items: [failed(1), { id: ID(2), status: 'pending' }] }).anchorBatch([HASH, HASH])
    expect(result.status).toBe('pending')
    expect(result.items.map(i => i.status)).toEqual(['failed', 'pending'])
  })

  it('throws a single anchor\'s refusal as an ApiError with status 409 and the validators\' code', async () => {
    const refusal = await clientAnswering(409, failed(3)).anchorHash(HASH).catch((err: unknown) => err)
    expect(refusal).toBeInstanceOf(ApiError)
    expect([(refusal as ApiError).status, (refusal as ApiError).code]).toEqual([409, 'BAD_SIGNATURE'])
  })
})

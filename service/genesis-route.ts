/**
 * `GET /v1/genesis`: the network's genesis in its JSON form with its fingerprint, public (no API
 * key). The fingerprint is what every header names and what clients pin; a client that has a
 * pin from elsewhere checks it against the genesis itself (client.ts fetchGenesis), so this
 * answer asks no trust of the service. The genesis never changes: the answer is made once.
 */
import type { FastifyInstance } from 'fastify'
import { genesisFingerprint } from '../consensus/genesis-fingerprint.js'
import { toJsonText } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'

const HEX32 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const
const NAMED_KEY = {
  type: 'object',
  required: ['name', 'publicKey'],
  additionalProperties: false,
  properties: { name: { type: 'string' }, publicKey: HEX32 }
} as const

/** The answer's shape, for the API's documentation: the genesis as docs/certificate.md section 7 gives it. */
export const GENESIS_ANSWER_SCHEMA = {
  description: 'The network\'s genesis (byte fields in lowercase hex) and its fingerprint: the hex of its genesis hash, which every block header carries',
  type: 'object',
  required: ['fingerprint', 'genesis'],
  additionalProperties: false,
  properties: {
    fingerprint: { ...HEX32, description: 'hex of taggedHash("trustnet/genesis/v1", CBOR(genesis)): pin it to refuse any other genesis' },
    genesis: {
      type: 'object',
      required: ['chainId', 'genesisTime', 'validators', 'services', 'params'],
      additionalProperties: false,
      properties: {
        chainId: { type: 'string' },
        genesisTime: { type: 'integer', minimum: 0 },
        validators: { type: 'array', items: NAMED_KEY },
        services: { type: 'array', items: NAMED_KEY },
        params: { type: 'object', additionalProperties: { type: 'integer' } }
      }
    }
  }
} as const

export function registerGenesisRoute (app: FastifyInstance, genesis: Genesis): void {
  const answer = `{"fingerprint":"${genesisFingerprint(genesis)}","genesis":${toJsonText(genesis)}}`
  app.get('/v1/genesis', {
    config: { public: true },
    schema: {
      summary: 'The network\'s genesis and its fingerprint',
      description: 'Public: no API key. Check the fingerprint against one learnt from a source you trust before believing certificates checked against this genesis.',
      response: { 200: GENESIS_ANSWER_SCHEMA }
    }
  // Sent as text: the serializer fastify builds from the response schema is never needed.
  }, async (_req, reply) => await reply.type('application/json; charset=utf-8').send(answer))
}

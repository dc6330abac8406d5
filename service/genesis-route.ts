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
import { GenesisAnswerSchema, type RouteDoc } from './openapi.js'

const GENESIS_DOC: RouteDoc = {
  operationId: 'getGenesis',
  tag: 'certificates',
  summary: 'The network\'s genesis and its fingerprint',
  description: 'Public: no API key. Check the fingerprint against one learnt from a source you trust before believing certificates checked against this genesis.',
  answers: { 200: { description: 'The genesis and its fingerprint', schema: GenesisAnswerSchema } }
}

export function registerGenesisRoute (app: FastifyInstance, genesis: Genesis): void {
  const answer = `{"fingerprint":"${genesisFingerprint(genesis)}","genesis":${toJsonText(genesis)}}`
  app.get('/v1/genesis', { config: { public: true, openapi: GENESIS_DOC } }, async (_req, reply) => await reply.type('application/json; charset=utf-8').send(answer))
}

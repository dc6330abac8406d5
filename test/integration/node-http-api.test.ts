/**
 * A validator's operator HTTP API with a real node in this process (libp2p and LevelDB), after
 * records of this test were committed: each route's 200 shape, 404 for what the chain does not
 * hold, 400 for malformed parameters, every error in the `{ error: { code, message } }` form.
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyCertificate } from '../../consensus/certificate.js'
import { headerHash, recordId, toHex } from '../../consensus/ids.js'
import { blockFromJson, certificateFromJson, fromJson } from '../../consensus/json.js'
import { CommitSchema, type Genesis, type LedgerRecord } from '../../consensus/types.js'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'
import { genesisPath, initNetwork, nodeHome } from '../../cli/init.js'
import { readGenesis } from '../../node/config.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { NodeClient } from '../../service/node-client.js'
import { makeRecords } from '../helpers/fixtures.js'

const HEX64 = /^[0-9a-f]{64}$/
interface Answer<T = unknown> { status: number, body: T }
interface StatusBody { height: number, lastBlockHash: string, peers: string[], [field: string]: unknown }
interface RecordBody { id: string, height: number, record: { dataHash: string, meta: unknown }, certificate: unknown }
const VALIDATORS = 4

describe('validator operator HTTP API', () => {
  let dir: string
  let genesis: Genesis
  let nodes: RunningNode[] = []
  let client: NodeClient
  /** Records committed before the tests, with the height of the block each landed in. */
  let records: LedgerRecord[] = []
  let heights: number[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-node-http-'))
    const basePort = await freePortBase(clusterOffsets(VALIDATORS))
    await initNetwork({ validators: VALIDATORS, out: dir, basePort, host: '127.0.0.1', chainId: 'node-http-test' })
    genesis = await readGenesis(genesisPath(dir))
    nodes = await Promise.all(Array.from({ length: VALIDATORS }, async (_, i) => await startNode(nodeHome(dir, i))))
    client = new NodeClient({ genesis, nodes: nodes.map(n => n.p2p[0] as string), seed: new Uint8Array(randomBytes(32)) })
    await client.start()
    // Two of them share a data hash: one hash, two records (different names).
    records = [...makeRecords(3), { ...makeRecords(1, 100)[0] as LedgerRecord, dataHash: (makeRecords(1)[0] as LedgerRecord).dataHash }]
    await client.submit(records)
    const placements = await client.certificates(records.map(recordId), { waitMs: 20_000 })
    if (placements.some(p => p === null)) throw new Error('records were not committed in time')
    heights = placements.map(p => p?.seal.header.height as number)
  })

  afterAll(async () => {
    await client?.stop()
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(dir, { recursive: true, force: true })
  })

  const get = async <T = unknown>(path: string, init?: RequestInit): Promise<Answer<T>> => {
    const res = await fetch(`${(nodes[0] as RunningNode).http}${path}`, init)
    return { status: res.status, body: await res.json() as T }
  }

  /** An answer in the API's error form with `status` and `code`. */
  const expectError = (answer: Answer, status: number, code: string): void => {
    expect(answer.status).toBe(status)
    expect(answer.body).toEqual({ error: { code, message: expect.any(String) } })
  }

  it('GET /status: the chain, this validator, its round and peers, and the validator set', async () => {
    const { status, body } = await get<StatusBody>('/status')
    expect(status).toBe(200)
    expect(body).toMatchObject({
      chainId: genesis.chainId,
      validator: 0,
      peerId: (nodes[0] as RunningNode).peerId,
      step: expect.any(String),
      memory: { rss: expect.any(Number), heapUsed: expect.any(Number) }
    })
    expect(body.height).toBeGreaterThanOrEqual(Math.max(...heights))
    expect(body.lastBlockHash).toMatch(HEX64)
    for (const field of ['round', 'leader', 'mempool']) expect(Number.isInteger(body[field]) && (body[field] as number) >= 0, field).toBe(true)
    expect(body.leader).toBeLessThan(VALIDATORS)
    // Connected to the other validators (and to the test's client).
    expect(body.peers).toEqual(expect.arrayContaining(nodes.slice(1).map(n => n.peerId)))
    expect(body.validators).toEqual(genesis.validators.map((v, i) => ({ index: i, name: v.name, publicKey: toHex(v.publicKey), peerId: (nodes[i] as RunningNode).peerId })))
  })

  it('GET /blocks/:height: the stored block and its commit, the same hash as /status names for the tip', async () => {
    const height = heights[0] as number
    const { status, body } = await get<{ block: unknown, commit: unknown }>(`/blocks/${height}`)
    expect(status).toBe(200)
    expect(Object.keys(body).sort()).toEqual(['block', 'commit'])
    const block = blockFromJson(body.block)
    const commit = fromJson(CommitSchema, body.commit)
    expect(block.header.height).toBe(height)
    expect(toHex(commit.blockHash)).toBe(toHex(headerHash(block.header)))
    expect(block.records.map(r => toHex(recordId(r)))).toContain(toHex(recordId(records[0] as LedgerRecord)))

    const tip = await get<StatusBody>('/status')
    const top = await get<{ commit: { blockHash: string } }>(`/blocks/${tip.body.height}`)
    expect(top.body.commit.blockHash).toBe(tip.body.lastBlockHash)
  })

  it('GET /blocks/:height: 404 beyond the tip, 400 for a height that is not a positive integer', async () => {
    const tip = (await get<StatusBody>('/status')).body.height
    expectError(await get(`/blocks/${tip + 1000}`), 404, 'NOT_FOUND')
    for (const bad of ['0', '-1', '1.5', 'abc', '1e3x', '99999999999999999999']) expectError(await get(`/blocks/${bad}`), 400, 'INVALID_FIELD')
  })

  it('GET /records/:id: the record, its height and a certificate that verifies offline', async () => {
    const record = records[1] as LedgerRecord
    const id = toHex(recordId(record))
    const { status, body } = await get<RecordBody>(`/records/${id}`)
    expect(status).toBe(200)
    expect(body).toMatchObject({ id, height: heights[1] })
    expect(body.record.dataHash).toBe(toHex(record.dataHash))
    expect(body.record.meta).toEqual(record.meta)
    const certificate = certificateFromJson(body.certificate)
    expect(verifyCertificate(genesis, certificate)).toEqual({ valid: true })
    expect(toHex(recordId(certificate.record))).toBe(id)
  })

  it('GET /records/:id: 404 for an id not on chain, 400 for one that is not 64 lowercase hex', async () => {
    expectError(await get(`/records/${toHex(new Uint8Array(randomBytes(32)))}`), 404, 'NOT_FOUND')
    const id = toHex(recordId(records[0] as LedgerRecord))
    for (const bad of [id.toUpperCase(), id.slice(2), `${id}00`, 'zz'.repeat(32)]) expectError(await get(`/records/${bad}`), 400, 'INVALID_FIELD')
  })

  it('GET /records?dataHash=: the ids of every record anchoring that hash; none for an unknown hash', async () => {
    const hash = toHex((records[0] as LedgerRecord).dataHash)
    const { status, body } = await get<{ dataHash: string, ids: string[] }>(`/records?dataHash=${hash}`)
    expect(status).toBe(200)
    expect(body.dataHash).toBe(hash)
    expect([...body.ids].sort()).toEqual([records[0], records[3]].map(r => toHex(recordId(r as LedgerRecord))).sort())

    const unknown = toHex(new Uint8Array(randomBytes(32)))
    expect(await get(`/records?dataHash=${unknown}`)).toEqual({ status: 200, body: { dataHash: unknown, ids: [] } })
  })

  it('GET /records: 400 without a dataHash or with a malformed one', async () => {
    const hash = toHex((records[0] as LedgerRecord).dataHash)
    for (const query of ['', '?dataHash=', `?dataHash=${hash.toUpperCase()}`, `?dataHash=${hash.slice(1)}`, '?hash=' + hash]) {
      expectError(await get(`/records${query}`), 400, 'INVALID_FIELD')
    }
  })

  it('answers 404 in the same form for unknown routes, and has no admin route unless fault injection is on', async () => {
    expectError(await get('/nothing-here'), 404, 'NOT_FOUND')
    expectError(await get('/admin/links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blockedValidators: [1] }) }), 404, 'NOT_FOUND')
    // Nothing was cut: the node still sees every other validator.
    expect((await get<StatusBody>('/status')).body.peers).toEqual(expect.arrayContaining(nodes.slice(1).map(n => n.peerId)))
  })
})

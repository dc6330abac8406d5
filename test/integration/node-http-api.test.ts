/**
 * A validator's operator HTTP API with real nodes in this process (libp2p and LevelDB), after
 * entries of this test were committed: each route's 200 shape (the explorer's page and routes
 * too), 404 for what the chain does not hold, 400 for malformed parameters, every error in the
 * `{ error: { code, message } }` form. The node shows entries (in hex) and counts of them, never
 * a record: the records' data hashes and names appear in no answer. The door, on an API of a
 * stand-in validator in this process: rates per address (loopback exempt by default), whole
 * blocks weighed and bounded, timeouts, the connection cap, and fault injection kept off public
 * addresses.
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { entriesOf, packEntries } from '../../consensus/entries.js'
import { headerHash, toHex } from '../../consensus/ids.js'
import { blockFromJson, fromJson, toJson } from '../../consensus/json.js'
import { CommitSchema } from '../../consensus/types.js'
import { createHost, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'
import { checkFaultInjection, type NodeConfig } from '../../node/config.js'
import type { ConsensusDriver } from '../../node/driver.js'
import { buildNodeHttpApi, MAX_BLOCKS_IN_FLIGHT, type NodeHttpDoor } from '../../node/http-api.js'
import { startNode, type RunningNode } from '../../node/node.js'
import type { ChainStore } from '../../node/store/chain-store.js'
import { CertificateResponseSchema, PROTOCOL, SubmitResponseSchema, decodeResponse } from '../../protocol/node-api.js'
import { makeCommittedBlock, makeEntries, makeNetwork, makeRecord, makeSubmission } from '../helpers/fixtures.js'
import { startCluster, type NodeCluster } from '../helpers/node-cluster.js'

const HEX64 = /^[0-9a-f]{64}$/
interface Answer<T = unknown> { status: number, body: T }
interface StatusBody { height: number, lastBlockHash: string, peers: string[], [field: string]: unknown }
interface EntryBody { entry: string, height: number, index: number, service: number, blockHash: string }
const net = makeNetwork(4, { chainId: 'node-http-test', services: 2 })
/** Entries of records 0..2 through service 0, then 100..101 through service 1. */
const entries = [...makeEntries(3), ...makeEntries(2, 100)]

describe('validator operator HTTP API', () => {
  let cluster: NodeCluster
  let nodes: RunningNode[] = []
  /** One peer per registered service: a validator takes a service's submissions from its own key only. */
  let clients: Host[] = []
  /** The height of the block each entry landed in. */
  let heights: number[] = []

  beforeAll(async () => {
    cluster = await startCluster(net)
    nodes = cluster.nodes
    clients = await Promise.all(net.serviceSeeds.map(async seed => await createHost({ privateKeySeed: seed, peers: nodes.map(n => n.p2p[0] as string) })))
    const rrs = clients.map(c => new RequestResponse(c.node))
    const ask = async (node: RunningNode, protocol: string, body: unknown, service = 0): Promise<Uint8Array> => await rrs[service]!.request(node.peerId, protocol, encode(body), { timeoutMs: 30_000, maxResponseBytes: 16 * 1024 * 1024 })
    // As a service does: every submission to every validator.
    for (const node of nodes) {
      for (const submission of [makeSubmission(net, entries.slice(0, 3)), makeSubmission(net, entries.slice(3), 1)]) {
        decodeResponse(SubmitResponseSchema, await ask(node, PROTOCOL.submit, { submission }, submission.service))
      }
    }
    const { blocks } = decodeResponse(CertificateResponseSchema, await ask(nodes[0]!, PROTOCOL.certificate, { entries: packEntries(entries), waitMs: 20_000 }))
    heights = entries.map(e => blocks.find(b => b.block.submissions.flatMap(entriesOf).some(x => Buffer.from(x).equals(e)))?.block.header.height ?? 0)
    if (heights.includes(0)) throw new Error('entries were not committed in time')
  })

  afterAll(async () => {
    await Promise.allSettled(clients.map(async c => { await c.stop() }))
    await cluster?.stop()
  })

  const get = async <T = unknown>(path: string, init?: RequestInit): Promise<Answer<T>> => {
    const res = await fetch(`${nodes[0]!.http}${path}`, init)
    return { status: res.status, body: await res.json() as T }
  }

  /** An answer in the API's error form with `status` and `code`. */
  const expectError = (answer: Answer, status: number, code: string): void => {
    expect(answer.status).toBe(status)
    expect(answer.body).toEqual({ error: { code, message: expect.any(String) } })
  }

  it('GET /status: the chain, this validator, its round, entries waiting and peers, the validator set and the services', async () => {
    const { status, body } = await get<StatusBody>('/status')
    expect(status).toBe(200)
    expect(body).toMatchObject({
      chainId: net.genesis.chainId,
      validator: 0,
      peerId: nodes[0]!.peerId,
      step: expect.any(String),
      memory: { rss: expect.any(Number), heapUsed: expect.any(Number) }
    })
    expect(body.height).toBeGreaterThanOrEqual(Math.max(...heights))
    expect(body.lastBlockHash).toMatch(HEX64)
    for (const field of ['round', 'leader', 'mempool']) expect(Number.isInteger(body[field]) && (body[field] as number) >= 0, field).toBe(true)
    expect(body.leader).toBeLessThan(nodes.length)
    expect(body.peers).toEqual(expect.arrayContaining(nodes.slice(1).map(n => n.peerId)))
    expect(body.lastBlockTime).toBeGreaterThanOrEqual(net.genesis.genesisTime)
    expect(body.validators).toEqual(net.genesis.validators.map((v, i) => ({ index: i, name: v.name, publicKey: toHex(v.publicKey), peerId: nodes[i]!.peerId, connected: true })))
    expect(body.services).toEqual(net.genesis.services.map((s, i) => ({ index: i, name: s.name, publicKey: toHex(s.publicKey) })))
  })

  it('GET /blocks/:height: the stored block of submissions, entries in hex, and its commit; no record in it', async () => {
    const height = heights[0]!
    const { status, body } = await get<{ block: unknown, commit: unknown }>(`/blocks/${height}`)
    expect(status).toBe(200)
    expect(Object.keys(body).sort()).toEqual(['block', 'commit'])
    const block = blockFromJson(body.block)
    const commit = fromJson(CommitSchema, body.commit)
    expect(block.header.height).toBe(height)
    expect(toHex(commit.blockHash)).toBe(toHex(headerHash(block.header)))
    expect(block.submissions.flatMap(entriesOf).map(toHex)).toContain(toHex(entries[0]!))
    const text = JSON.stringify(body)
    expect(text).toContain(toHex(entries[0]!))
    expect(text).not.toContain(toHex(makeRecord(0).dataHash))
    expect(text).not.toContain(makeRecord(0).meta.name)

    const tip = await get<StatusBody>('/status')
    const top = await get<{ commit: { blockHash: string } }>(`/blocks/${tip.body.height}`)
    expect(top.body.commit.blockHash).toBe(tip.body.lastBlockHash)
  })

  it('GET /blocks/:height: 404 beyond the tip, 400 for a height that is not a positive integer', async () => {
    const tip = (await get<StatusBody>('/status')).body.height
    expectError(await get(`/blocks/${tip + 1000}`), 404, 'NOT_FOUND')
    for (const bad of ['0', '-1', '1.5', 'abc', '1e3x', '99999999999999999999']) expectError(await get(`/blocks/${bad}`), 400, 'INVALID_FIELD')
  })

  it('GET /genesis: the genesis in its JSON form', async () => {
    const { status, body } = await get('/genesis')
    expect(status).toBe(200)
    expect(body).toEqual(toJson(net.genesis))
  })

  it('GET /blocks?latest=N: the newest blocks first, each with its counts and the validators whose signatures seal it', async () => {
    const { status, body } = await get<{ height: number, blocks: Array<{ height: number, hash: string, time: number, proposer: number, entryCount: number, submissions: number, round: number, signers: number[] }> }>('/blocks?latest=3')
    expect(status).toBe(200)
    const tip = body.height
    expect(body.blocks.map(b => b.height)).toEqual([tip, tip - 1, tip - 2].filter(h => h >= 1))
    for (const b of body.blocks) {
      const full = (await get<{ block: unknown, commit: unknown }>(`/blocks/${b.height}`)).body
      const block = blockFromJson(full.block)
      const commit = fromJson(CommitSchema, full.commit)
      expect(b).toEqual({
        height: block.header.height,
        hash: toHex(commit.blockHash),
        time: block.header.time,
        proposer: block.header.proposer,
        entryCount: block.header.entryCount,
        submissions: block.submissions.length,
        round: commit.round,
        signers: commit.signatures.map(x => x.validator).sort((x, y) => x - y)
      })
      expect(b.signers.length).toBeGreaterThanOrEqual(3)
    }
    expect((await get<{ blocks: unknown[] }>('/blocks')).body.blocks).toHaveLength(Math.min(10, tip))
    for (const bad of ['0', '51', 'x', '-1']) expectError(await get(`/blocks?latest=${bad}`), 400, 'INVALID_FIELD')
    expectError(await get('/blocks?latest=2&more=1'), 400, 'INVALID_FIELD')
  })

  it('GET / and /explorer: the explorer page, its script and style, under a policy that allows this origin only', async () => {
    for (const path of ['/', '/explorer']) {
      const res = await fetch(`${nodes[0]!.http}${path}`)
      expect(res.status, 'the explorer is built by npm run build').toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(await res.text()).toContain('explorer/explorer.js')
    }
    const script = await fetch(`${nodes[0]!.http}/explorer/explorer.js`)
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/)
    expect((await script.text()).length).toBeGreaterThan(1000)
    expect((await fetch(`${nodes[0]!.http}/explorer/explorer.css`)).headers.get('content-type')).toMatch(/^text\/css/)
    for (const file of ['main.ts', 'constructor', '..%2Fpackage.json']) expectError(await get(`/explorer/${file}`), 404, 'NOT_FOUND')
  })

  it('GET /entries/:entry: where the entry sits, the service that submitted it and its block\'s hash', async () => {
    for (const [i, service] of [[1, 0], [4, 1]] as const) {
      const entry = toHex(entries[i]!)
      const { status, body } = await get<EntryBody>(`/entries/${entry}`)
      expect(status).toBe(200)
      expect(body).toMatchObject({ entry, height: heights[i], service })
      const block = blockFromJson((await get<{ block: unknown }>(`/blocks/${body.height}`)).body.block)
      expect(toHex(block.submissions.flatMap(entriesOf)[body.index]!)).toBe(entry)
      expect(body.blockHash).toBe(toHex(headerHash(block.header)))
    }
  })

  it('GET /entries/:entry: 404 for an entry not on chain, 400 for one that is not 64 lowercase hex', async () => {
    expectError(await get(`/entries/${toHex(new Uint8Array(randomBytes(32)))}`), 404, 'NOT_FOUND')
    const entry = toHex(entries[0]!)
    for (const bad of [entry.toUpperCase(), entry.slice(2), `${entry}00`, 'zz'.repeat(32)]) expectError(await get(`/entries/${bad}`), 400, 'INVALID_FIELD')
  })

  it('answers 404 in the same form for unknown routes and for the record routes of old, and has no admin route unless fault injection is on', async () => {
    expectError(await get('/nothing-here'), 404, 'NOT_FOUND')
    expectError(await get(`/records/${toHex(entries[0]!)}`), 404, 'NOT_FOUND')
    expectError(await get(`/records?dataHash=${toHex(makeRecord(0).dataHash)}`), 404, 'NOT_FOUND')
    expectError(await get('/admin/links', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blockedValidators: [1] }) }), 404, 'NOT_FOUND')
    // Nothing was cut: the node still sees every other validator.
    expect((await get<StatusBody>('/status')).body.peers).toEqual(expect.arrayContaining(nodes.slice(1).map(n => n.peerId)))
  })
})

describe('validator operator HTTP API: the door', () => {
  const block = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))])
  const tip = { height: 1, hash: block.hash, time: block.block.header.time }
  const driver = { status: () => ({ tip, round: 0, step: 'propose', leader: 0, mempool: 0 }), evidenceNotKept: 0 } as unknown as ConsensusDriver
  const apps: FastifyInstance[] = []
  const sockets: Socket[] = []
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await Promise.allSettled(apps.map(async app => { await app.close() }))
  })

  /** A stand-in validator's API on 127.0.0.1 with these limits; `blockAt` answers GET /blocks/:height's reads. */
  async function serve (door: Partial<NodeHttpDoor>, blockAt: (height: number) => Promise<unknown> = async h => h === 1 ? block : undefined): Promise<{ port: number }> {
    const store = { block: blockAt } as unknown as ChainStore
    const app = buildNodeHttpApi({ genesis: net.genesis, index: 0, peerId: 'peer-0', validatorPeerIds: ['peer-0'], driver, store, connectedPeers: () => [], door })
    apps.push(app)
    await app.listen({ host: '127.0.0.1', port: 0 })
    return { port: (app.server.address() as { port: number }).port }
  }

  /** GET `path` from the local address `from` (any of 127.0.0.0/8 reaches the server). */
  const getFrom = async (port: number, path: string, from = '127.0.0.1'): Promise<{ status: number, retryAfter: string | undefined, body: { error?: { code: string } } }> =>
    await new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, localAddress: from, agent: false }, res => {
        let text = ''
        res.setEncoding('utf8').on('data', chunk => { text += chunk as string }).on('end', () => {
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text) as { error?: { code: string } } })
        })
      }).on('error', reject).end()
    })

  /** A raw connection, and what it received until the server closed it. */
  const rawConnection = async (port: number): Promise<{ socket: Socket, closed: Promise<string> }> => {
    const socket = connect({ host: '127.0.0.1', port })
    sockets.push(socket)
    let text = ''
    socket.setEncoding('utf8').on('data', chunk => { text += String(chunk) }).on('error', () => {})
    const closed = new Promise<string>(resolve => socket.once('close', () => { resolve(text) }))
    await new Promise(resolve => socket.once('connect', resolve))
    return { socket, closed }
  }

  it('answers 429 RATE_LIMITED with Retry-After past the rate of one address; another address, and loopback by default, are not refused', async () => {
    const { port } = await serve({ rate: { max: 3, windowMs: 60_000 }, exempt: [] })
    for (let i = 0; i < 3; i++) expect((await getFrom(port, '/status')).status).toBe(200)
    const refused = await getFrom(port, '/status')
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'RATE_LIMITED'])
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1)
    expect((await getFrom(port, '/status', '127.0.0.2')).status).toBe(200)

    const exempt = await serve({ rate: { max: 3, windowMs: 60_000 } })
    for (let i = 0; i < 6; i++) expect((await getFrom(exempt.port, '/status')).status).toBe(200)
  })

  it('weighs whole blocks: their own rate refuses them while the address may still ask the rest', async () => {
    const { port } = await serve({ blockRate: { max: 1, windowMs: 60_000 }, exempt: [] })
    expect((await getFrom(port, '/blocks/1')).status).toBe(200)
    const refused = await getFrom(port, '/blocks/1')
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'RATE_LIMITED'])
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1)
    expect((await getFrom(port, '/status')).status).toBe(200)
  })

  it(`answers 503 BUSY past ${MAX_BLOCKS_IN_FLIGHT} whole blocks being answered at once, from any address`, async () => {
    let release = (): void => {}
    const held = new Promise<void>(resolve => { release = resolve })
    let reads = 0
    const { port } = await serve({}, async h => { reads++; await held; return h === 1 ? block : undefined })
    const first = Array.from({ length: MAX_BLOCKS_IN_FLIGHT }, async () => await getFrom(port, '/blocks/1'))
    while (reads < MAX_BLOCKS_IN_FLIGHT) await new Promise(resolve => setTimeout(resolve, 10))
    const busy = await getFrom(port, '/blocks/1')
    expect([busy.status, busy.body.error?.code, busy.retryAfter]).toEqual([503, 'BUSY', '1'])
    release()
    expect((await Promise.all(first)).map(a => a.status)).toEqual(first.map(() => 200))
    expect((await getFrom(port, '/blocks/1')).status).toBe(200)
  })

  it('cuts a request trickling in with 408 REQUEST_TIMEOUT, and closes an idle keep-alive connection', async () => {
    const { port } = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 200, keepAliveTimeoutMs: 200 })
    const slow = await rawConnection(port)
    slow.socket.write('GET /status HTTP/1.1\r\nhost: x\r\n')
    const answer = await slow.closed
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(answer).toContain('"code":"REQUEST_TIMEOUT"')

    const idle = await rawConnection(port)
    idle.socket.write('GET /status HTTP/1.1\r\nhost: x\r\n\r\n')
    const began = Date.now()
    expect(await idle.closed).toMatch(/^HTTP\/1\.1 200 /)
    // Node's default would hold it 5 s.
    expect(Date.now() - began).toBeLessThan(3_000)
  })

  it('closes a connection past maxConnections without an answer, and takes new ones once others close', async () => {
    const { port } = await serve({ maxConnections: 2 })
    const open = [await rawConnection(port), await rawConnection(port)]
    // Each is accepted: it gets an answer and stays open.
    for (const c of open) c.socket.write('GET /status HTTP/1.1\r\nhost: x\r\n\r\n')
    await new Promise(resolve => setTimeout(resolve, 100))
    const third = await rawConnection(port)
    third.socket.write('GET /status HTTP/1.1\r\nhost: x\r\n\r\n')
    expect(await third.closed).toBe('')
    open[0]!.socket.destroy()
    await open[0]!.closed
    expect((await getFrom(port, '/status')).status).toBe(200)
  })

  it('refuses to start with fault injection on and http.host not a loopback address (CONFIG_INVALID)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trustnet-door-'))
    const before = process.env.TRUSTNET_FAULT_INJECTION
    try {
      const home = join(dir, 'node-0')
      await mkdir(home)
      await writeFile(join(dir, 'genesis.json'), JSON.stringify(toJson(net.genesis)))
      const config: NodeConfig = { index: 0, seed: Buffer.from(net.seeds[0]!).toString('hex'), listen: '/ip4/127.0.0.1/tcp/0', http: { host: '0.0.0.0', port: 0 }, peers: [], genesis: '../genesis.json', dataDir: 'data' }
      await writeFile(join(home, 'node.json'), JSON.stringify(config))
      process.env.TRUSTNET_FAULT_INJECTION = '1'
      await expect(startNode(home)).rejects.toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' })
      for (const host of ['127.0.0.1', '::1', 'localhost']) expect(() => { checkFaultInjection({ ...config, http: { host, port: 0 } }, home, true) }).not.toThrow()
      expect(() => { checkFaultInjection(config, home, false) }).not.toThrow()
    } finally {
      if (before === undefined) delete process.env.TRUSTNET_FAULT_INJECTION
      else process.env.TRUSTNET_FAULT_INJECTION = before
      await rm(dir, { recursive: true, force: true })
    }
  })
})

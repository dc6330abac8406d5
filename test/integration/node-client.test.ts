/**
 * The service's node client on its own, against four real validators in this process (libp2p and
 * LevelDB): entries signed and submitted, placed in blocks whose seal it checked, certificates
 * that verify offline, verifications settled by a quorum of signed attestations. A submission
 * holding an entry already on chain is signed again without it; a key the genesis does not
 * register is refused at start, and a refusal of the service by the nodes is a typed error. A
 * host holding a validator's key that answers garbage, mis-signed or forged answers is not
 * believed; fewer than a quorum reachable, or nobody, is a typed error; an AbortSignal or stop()
 * ends a call.
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { certificateOf, verifyCertificate } from '../../consensus/certificate.js'
import { decode, encode, equalBytes } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { entryOf, leafBytes } from '../../consensus/entries.js'
import { toHex } from '../../consensus/ids.js'
import { fromJson, toJsonText } from '../../consensus/json.js'
import type { Genesis, LedgerRecord } from '../../consensus/types.js'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'
import { genesisPath, initNetwork, nodeHome } from '../../cli/init.js'
import { loadNodeConfig, readGenesis } from '../../node/config.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { PROTOCOL, SealedBlockSchema, VerifyRequestSchema, signAttestation, verifyAttestation, type Attestation, type SealedBlock } from '../../protocol/node-api.js'
import { NodeClient, type NodeClientInit, type Placement } from '../../service/node-client.js'
import { ServiceError } from '../../service/errors.js'
import { ConfigError } from '../../lib/json-file.js'
import { makeRecord, makeSubmission, testSeed, type TestNetwork } from '../helpers/fixtures.js'
import { neverAnswer, startRogueValidator, type RogueAnswer, type RogueValidator } from '../helpers/rogue-validator.js'
import { waitFor } from '../helpers/service-harness.js'

const QUORUM = 3
const WAIT_MS = 20_000

/** The `name`, `code` and `details` of the ServiceError a call rejects with. */
async function failure (call: Promise<unknown>): Promise<{ name: string, code: string, details: Record<string, unknown> | undefined }> {
  try {
    await call
  } catch (err) {
    if (err instanceof ServiceError) return { name: err.name, code: err.code, details: err.details }
    throw err
  }
  throw new Error('expected a ServiceError, the call succeeded')
}

const random32 = (): Uint8Array => new Uint8Array(randomBytes(32))
/** Services the test genesis registers, one per client a test may hold at once: distinct keys, distinct peer ids. */
const SERVICES = Array.from({ length: 8 }, (_, k) => ({ name: `client-test-${k}`, seed: testSeed(`node-client/service/${k}`) }))

/** An item of service `service` as a service would make it: a record, its random salt and its entry. */
interface Own { record: LedgerRecord, salt: Uint8Array, entry: Uint8Array }
const own = (count: number, service: string): Own[] => Array.from({ length: count }, (_, i) => {
  const record = { ...makeRecord(i, { service }), dataHash: random32() }
  const salt = random32()
  return { record, salt, entry: entryOf(record, salt) }
})
const entries = (items: Own[]): Uint8Array[] => items.map(i => i.entry)

describe('NodeClient against validators on libp2p', () => {
  let dir: string
  let genesis: Genesis
  let nodes: RunningNode[] = []
  /** Validator i's secret seed: what a host needs to carry validator i's peer id. */
  let seeds: Uint8Array[] = []
  const clients: NodeClient[] = []
  const rogues: RogueValidator[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-node-client-'))
    const basePort = await freePortBase(clusterOffsets(4))
    await initNetwork({ validators: 4, out: dir, basePort, host: '127.0.0.1', chainId: 'node-client-test' })
    // One registered service per client a test holds at once.
    const initial = await readGenesis(genesisPath(dir))
    genesis = { ...initial, services: SERVICES.map(s => ({ name: s.name, publicKey: defaultEd25519.publicKey(s.seed) })) }
    await writeFile(genesisPath(dir), toJsonText(genesis))
    seeds = await Promise.all([0, 1, 2, 3].map(async i => (await loadNodeConfig(nodeHome(dir, i))).seed))
    nodes = await Promise.all([0, 1, 2, 3].map(async i => await startNode(nodeHome(dir, i))))
  })

  // What a test started ends with it: no test leans on another's clients or hosts.
  afterEach(async () => {
    await Promise.allSettled([...clients.splice(0), ...rogues.splice(0)].map(async c => { await c.stop() }))
  })

  afterAll(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(dir, { recursive: true, force: true })
  })

  const addr = (i: number): string => (nodes[i] as RunningNode).p2p[0] as string
  const allNodes = (): string[] => [0, 1, 2, 3].map(addr)

  let nextService = 0
  type Service = typeof SERVICES[number]
  /**
   * A started client of `addrs`, running as `service` (default: the next registered one, so no two
   * clients alive at once share a peer id unless asked to); `bad` collects (node, protocol) of
   * every answer it found unusable.
   */
  async function client (addrs: string[], init: Partial<NodeClientInit> = {}, reachable = addrs.length, service: Service = SERVICES[nextService++ % SERVICES.length] as Service): Promise<{ nc: NodeClient, name: string, bad: Array<[string, string]> }> {
    const bad: Array<[string, string]> = []
    const nc = new NodeClient({ genesis, nodes: addrs, seed: service.seed, serviceId: service.name, onBadAnswer: (node, protocol) => { bad.push([node, protocol]) }, ...init })
    clients.push(nc)
    await nc.start()
    // Validators take at most 5 new connections a second from one address (libp2p's inbound
    // threshold) and tests start clients faster than that: a refused dial is retried, so wait.
    await waitFor('the client connected to every reachable node it was given', () => nc.connectedNodes().length === reachable, 20_000)
    return { nc, name: service.name, bad }
  }

  async function rogue (seed: Uint8Array, answer: RogueAnswer): Promise<RogueValidator> {
    const r = await startRogueValidator(seed, answer)
    rogues.push(r)
    return r
  }

  /** Items of the calling test only, committed, with their checked placements. */
  async function anchored (count: number): Promise<{ items: Own[], placements: Placement[], service: Service }> {
    const service = SERVICES[nextService++ % SERVICES.length] as Service
    const { nc, name } = await client(allNodes(), {}, 4, service)
    const items = own(count, name)
    await nc.submit(entries(items))
    const placements = await nc.certificates(entries(items), { waitMs: WAIT_MS })
    if (placements.some(p => p === null)) throw new Error('entries were not committed in time')
    // Every validator holds them, not only the first to answer: later asks need not wait.
    await waitFor('every validator to hold the entries', async () => {
      const statuses = await Promise.all(nodes.flatMap(n => items.map(async i => {
        const res = await fetch(`${n.http}/entries/${toHex(i.entry)}`)
        await res.arrayBuffer()
        return res.status
      })))
      return statuses.every(s => s === 200)
    })
    await nc.stop()
    return { items, placements: placements as Placement[], service }
  }

  const certificate = (item: Own, p: Placement | null): unknown => certificateOf(item.record, item.salt, (p as Placement).seal, (p as Placement).proof)

  describe('with honest validators', () => {
    it('signs a submission, sends it to f+1 or more validators and places every entry in a checked block whose certificates verify offline', async () => {
      const { nc, name, bad } = await client(allNodes())
      const items = own(25, name)
      const { acknowledged } = await nc.submit(entries(items))
      expect(acknowledged).toBeGreaterThanOrEqual(2)
      expect(acknowledged).toBeLessThanOrEqual(4)

      const placements = await nc.certificates(entries(items), { waitMs: WAIT_MS })
      items.forEach((item, i) => {
        const p = placements[i] as Placement
        expect(p).not.toBeNull()
        // The block's leaves are what rebuilds the proof: the entry sits where its proof says, bound to this service.
        expect(equalBytes(p.leaves[p.proof.index] as Uint8Array, leafBytes(nc.serviceIndex, item.entry))).toBe(true)
        const verdict = verifyCertificate(genesis, certificate(item, p))
        expect(verdict).toMatchObject({ valid: true, service: name, entry: toHex(item.entry) })
        expect(new Set(p.seal.commit.signatures.map(s => s.validator)).size).toBeGreaterThanOrEqual(QUORUM)
      })
      expect(bad).toEqual([])

      // Asking twice for an entry gives one placement.
      const twice = await nc.certificates([items[0]!.entry, items[0]!.entry], { waitMs: 0 })
      expect(twice[0]).not.toBeNull()
      expect(twice[1]).toBe(twice[0])
    })

    it('signs again without them a submission whose entries are partly on chain, and places all of them', async () => {
      const { items, service } = await anchored(2)
      const { nc: same } = await client(allNodes(), {}, 4, service)
      const fresh = own(3, items[0]!.record.service)
      const outcome = await same.submit([items[0]!.entry, ...entries(fresh)])
      expect(outcome.acknowledged).toBeGreaterThanOrEqual(2)
      expect(outcome.committed.size).toBe(1)
      const placements = await same.certificates([items[0]!.entry, ...entries(fresh)], { waitMs: WAIT_MS })
      ;[items[0]!, ...fresh].forEach((item, i) => { expect(verifyCertificate(genesis, certificate(item, placements[i]!)).valid).toBe(true) })
    })

    it('places no entry of this service that sits in a leaf of another service', async () => {
      const { items } = await anchored(1)
      // Another registered service's client finds the entry on chain, but under the first service's index.
      const { nc } = await client(allNodes())
      expect(await nc.certificates([items[0]!.entry], { waitMs: 0 })).toEqual([null])
    })

    it('gives null for an entry no validator holds, next to entries they do', async () => {
      const { items, service } = await anchored(2)
      const { nc } = await client(allNodes(), {}, 4, service)
      const placements = await nc.certificates([random32(), items[0]!.entry], { waitMs: 0 })
      expect(placements[0]).toBeNull()
      expect(verifyCertificate(genesis, certificate(items[0]!, placements[1]!)).valid).toBe(true)
    })

    it('verifies with a quorum of signed attestations: match, mismatch and not found', async () => {
      const { items, placements } = await anchored(1)
      const { entry } = items[0]!
      const { height } = placements[0]!.seal.header
      const { index } = placements[0]!.proof
      const { nc, bad } = await client(allNodes())

      const intact = await nc.verify(entry, height, index)
      expect(intact.quorum).toBe(QUORUM)
      expect(intact.matches).toBeGreaterThanOrEqual(QUORUM)
      expect(toHex(intact.anchored as Uint8Array)).toBe(toHex(entry))
      expectSignedByDistinctValidators(intact.attestations)
      expect(intact.attestations.every(a => a.outcome === 'match')).toBe(true)

      const changed = await nc.verify(random32(), height, index)
      expect(changed.matches).toBe(0)
      expect(toHex(changed.anchored as Uint8Array)).toBe(toHex(entry))
      expect(changed.attestations.every(a => a.outcome === 'mismatch')).toBe(true)
      expectSignedByDistinctValidators(changed.attestations)

      const nowhere = await nc.verify(entry, height, placements[0]!.seal.header.entryCount + 5)
      expect(nowhere).toMatchObject({ matches: 0, anchored: null })
      expect(nowhere.attestations.every(a => a.outcome === 'not-found')).toBe(true)
      expectSignedByDistinctValidators(nowhere.attestations)
      expect(bad).toEqual([])
    })

    it('does not wait for a validator that never answers once a quorum matched', async () => {
      const { items, placements } = await anchored(1)
      const silent = await rogue(seeds[3] as Uint8Array, neverAnswer)
      // Were the silent one waited for, this call would outlast the test's timeout.
      const { nc } = await client([addr(0), addr(1), addr(2), silent.addr], { requestTimeoutMs: 60_000 })
      const outcome = await nc.verify(items[0]!.entry, placements[0]!.seal.header.height, placements[0]!.proof.index)
      expect(outcome.matches).toBe(QUORUM)
      expect(outcome.attestations.map(a => a.validator)).toEqual([0, 1, 2])
    }, 30_000)
  })

  describe('a service the validators do not know', () => {
    it('does not start unless the genesis registers its name with its key', async () => {
      for (const init of [{ seed: random32(), serviceId: SERVICES[0]!.name }, { seed: SERVICES[0]!.seed, serviceId: 'nobody' }]) {
        const nc = new NodeClient({ genesis, nodes: allNodes(), ...init })
        const err = await nc.start().then(() => undefined, (e: unknown) => e)
        expect(err).toBeInstanceOf(ConfigError)
        expect((err as ConfigError).code).toBe('SERVICE_NOT_REGISTERED')
        await nc.stop()
      }
    })

    it('gets NODES_UNAVAILABLE when the validators\' genesis does not register it: they refuse its connection', async () => {
      // A genesis of its own that registers one more service than the validators' does: to them its key is a stranger's.
      const extra = { name: 'unknown-to-validators', seed: random32() }
      const own_ = { ...genesis, services: [...genesis.services, { name: extra.name, publicKey: defaultEd25519.publicKey(extra.seed) }] }
      const nc = new NodeClient({ genesis: own_, nodes: allNodes(), seed: extra.seed, serviceId: extra.name })
      clients.push(nc)
      await nc.start()
      const err = await nc.submit(entries(own(2, extra.name))).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(ServiceError)
      expect(err).toMatchObject({ name: 'NodesUnavailableError', code: 'NODES_UNAVAILABLE' })
    })
  })

  describe('with a host holding validator 3\'s key that answers what it likes', () => {
    /** An attestation as validator 3 would sign it for the request, changed by `edit` before or after signing. */
    const attest = (request: Uint8Array, edit: { before?: Partial<Attestation>, seed?: Uint8Array, after?: (a: Attestation) => Attestation } = {}): Uint8Array => {
      const { entry, height, index } = decode(VerifyRequestSchema, request)
      const a = signAttestation({
        chainId: genesis.chainId, entry, height, index, anchored: entry, outcome: 'match' as const, validator: 3, time: Date.now(), ...edit.before
      }, edit.seed ?? seeds[3] as Uint8Array)
      return encode({ attestation: edit.after?.(a) ?? a })
    }
    const flipped = (bytes: Uint8Array): Uint8Array => { const copy = Uint8Array.from(bytes); copy[0] = (copy[0] as number) ^ 1; return copy }

    const unbelievable: Array<[string, (request: Uint8Array) => Uint8Array]> = [
      ['garbage bytes', () => new Uint8Array(randomBytes(48))],
      ['an attestation whose signature is altered', r => attest(r, { after: a => ({ ...a, signature: flipped(a.signature) }) })],
      ['an attestation signed with another key', r => attest(r, { seed: random32() })],
      ['an attestation naming another validator', r => attest(r, { before: { validator: 2 } })],
      ['an attestation of another entry', r => attest(r, { before: { entry: random32() } })],
      ['an attestation of another place', r => attest(r, { before: { index: 1000 } })],
      ['an attestation that contradicts itself', r => attest(r, { before: { outcome: 'mismatch' } })]
    ]

    it.each(unbelievable)('verify does not count %s: two honest validators are short of a quorum', async (_what, answer) => {
      const { items, placements } = await anchored(1)
      const where = [items[0]!.entry, placements[0]!.seal.header.height, placements[0]!.proof.index] as const
      const r = await rogue(seeds[3] as Uint8Array, async (_protocol, request) => answer(request))
      const { nc, bad } = await client([addr(0), addr(1), r.addr])
      expect(await failure(nc.verify(...where))).toEqual({
        name: 'QuorumUnavailableError', code: 'QUORUM_UNAVAILABLE', details: { attested: 2, quorum: QUORUM }
      })
      expect(bad).toEqual([[r.addr, PROTOCOL.verify]])
    })

    it('verify counts the same host once its attestation is sound (the control of the cases above)', async () => {
      const { items, placements } = await anchored(1)
      const where = [items[0]!.entry, placements[0]!.seal.header.height, placements[0]!.proof.index] as const
      const r = await rogue(seeds[3] as Uint8Array, async (_protocol, request) => attest(request))
      const { nc, bad } = await client([addr(0), addr(1), r.addr])
      const outcome = await nc.verify(...where)
      expect(outcome.attestations.map(a => a.validator)).toEqual([0, 1, 3])
      expect(outcome.matches).toBe(QUORUM)
      expect(bad).toEqual([])
    })

    it('verify does not count a host whose key is no validator\'s', async () => {
      const { items, placements } = await anchored(1)
      const where = [items[0]!.entry, placements[0]!.seal.header.height, placements[0]!.proof.index] as const
      const stranger = random32()
      const r = await rogue(stranger, async (_protocol, request) => attest(request, { seed: stranger }))
      const { nc, bad } = await client([addr(0), addr(1), r.addr])
      expect((await failure(nc.verify(...where))).code).toBe('QUORUM_UNAVAILABLE')
      expect(bad).toEqual([[r.addr, PROTOCOL.verify]])
    })

    it('one validator attesting that a changed hash matches cannot make it pass', async () => {
      const { items, placements } = await anchored(1)
      const where = [items[0]!.entry, placements[0]!.seal.header.height, placements[0]!.proof.index] as const
      // Validly signed by validator 3, and false: it says whatever is presented is what was anchored.
      const liar = await rogue(seeds[3] as Uint8Array, async (_protocol, request) => attest(request))
      const { nc } = await client([addr(0), addr(1), addr(2), liar.addr])
      const outcome = await nc.verify(random32(), where[1], where[2])
      expect(outcome.matches).toBeLessThan(QUORUM)
      expect(toHex(outcome.anchored as Uint8Array)).toBe(toHex(items[0]!.entry))
    })

    /** A signed submission of a registered service, for padding a block. */
    const extraSubmission = (): ReturnType<typeof makeSubmission> =>
      makeSubmission({ genesis, serviceSeeds: [SERVICES[0]!.seed] } as unknown as TestNetwork, [random32()])
    /** What a host answers to a certificate request, from the honest sealed block holding the entry. */
    const forgeries: Array<[string, (honest: SealedBlock) => SealedBlock]> = [
      ['commit signatures that are not the validators\'', b => ({ ...b, commit: { ...b.commit, signatures: b.commit.signatures.map(s => ({ ...s, signature: new Uint8Array(randomBytes(64)) })) } })],
      ['a commit signed by fewer than a quorum', b => ({ ...b, commit: { ...b.commit, signatures: b.commit.signatures.slice(0, QUORUM - 1) } })],
      ['submissions that do not rebuild the header\'s root', b => ({ ...b, block: { ...b.block, submissions: [...b.block.submissions, extraSubmission()] } })],
      ['a header the commit does not sign', b => ({ ...b, block: { ...b.block, header: { ...b.block.header, time: b.block.header.time + 1 } } })]
    ]

    /** The sealed block at `height`, as an honest node sends it. */
    const honestBlock = async (height: number): Promise<SealedBlock> =>
      fromJson(SealedBlockSchema, await (await fetch(`${(nodes[0] as RunningNode).http}/blocks/${height}`)).json())

    it.each(forgeries)('certificates do not place entries in a sealed block with %s', async (_what, forge) => {
      const { items, placements, service } = await anchored(1)
      const id = items[0]!.entry
      const honest = placements[0] as Placement
      const sealed = forge(await honestBlock(honest.seal.header.height))
      const r = await rogue(seeds[3] as Uint8Array, async () => encode({ blocks: [sealed] }))

      // Alone, it places nothing.
      const alone = await client([r.addr], {}, 1, service)
      expect(await alone.nc.certificates([id], { waitMs: 0 })).toEqual([null])
      expect(alone.bad).toEqual([[r.addr, PROTOCOL.certificate]])

      await alone.nc.stop()
      // Asked first (a new client starts its rotation at the first node), it does not stop an honest node's answer.
      const mixed = await client([r.addr, addr(0)], {}, 2, service)
      const [placement] = await mixed.nc.certificates([id], { waitMs: 0 })
      expect(r.received(PROTOCOL.certificate)).toBe(2)
      expect(verifyCertificate(genesis, certificate(items[0]!, placement!)).valid).toBe(true)
      expect(mixed.bad).toEqual([[r.addr, PROTOCOL.certificate]])
    })

    it('certificates place entries with the same host once it relays the honest block (the control of the cases above)', async () => {
      const { items, placements, service } = await anchored(1)
      const sealed = await honestBlock(placements[0]!.seal.header.height)
      const r = await rogue(seeds[3] as Uint8Array, async () => encode({ blocks: [sealed] }))
      const { nc, bad } = await client([r.addr], {}, 1, service)
      const [placement] = await nc.certificates([items[0]!.entry], { waitMs: 0 })
      expect(placement).not.toBeNull()
      expect(bad).toEqual([])
    })

    it('a host answering garbage to everything gives NODES_UNAVAILABLE for submit and certificates', async () => {
      const r = await rogue(seeds[3] as Uint8Array, async () => new Uint8Array(randomBytes(48)))
      const { nc, bad } = await client([r.addr])
      expect((await failure(nc.submit([random32(), random32()]))).code).toBe('NODES_UNAVAILABLE')
      expect((await failure(nc.certificates([random32()], { waitMs: 0 }))).code).toBe('NODES_UNAVAILABLE')
      expect(bad).toEqual([[r.addr, PROTOCOL.submit], [r.addr, PROTOCOL.certificate]])
    })

    it('a submit acknowledgement that does not answer every entry is not an acknowledgement', async () => {
      const r = await rogue(seeds[3] as Uint8Array, async () => encode({ status: ['pending'] }))
      const { nc, bad } = await client([r.addr])
      expect((await failure(nc.submit([random32(), random32()]))).code).toBe('NODES_UNAVAILABLE')
      expect(bad).toEqual([[r.addr, PROTOCOL.submit]])
    })

    it('a refusal of the service itself is SUBMISSION_REFUSED; the same refusal next to an acknowledgement is not', async () => {
      const refuse = encode({ error: { code: 'BAD_SIGNATURE', message: 'not signed by service 0' } })
      const r = await rogue(seeds[3] as Uint8Array, async () => refuse)
      const alone = await client([r.addr])
      expect(await failure(alone.nc.submit([random32()]))).toMatchObject({ code: 'SUBMISSION_REFUSED', details: { reason: 'BAD_SIGNATURE' } })
      await alone.nc.stop()
      const mixed = await client([r.addr, addr(0)])
      expect((await mixed.nc.submit([random32()])).acknowledged).toBe(1)
    })
  })

  describe('unreachable validators and cancellation', () => {
    /** Validator i's peer id at a port where nothing listens. */
    const nowhere = (i: number): string => `/ip4/127.0.0.1/tcp/1/p2p/${(nodes[i] as RunningNode).peerId}`

    it('fewer than a quorum reachable: QUORUM_UNAVAILABLE for verify, the others still answer submit and certificates', async () => {
      const { items, placements, service } = await anchored(1)
      const where = [items[0]!.entry, placements[0]!.seal.header.height, placements[0]!.proof.index] as const
      const { nc } = await client([addr(0), addr(1), nowhere(2), nowhere(3)], {}, 2, service)
      expect(await failure(nc.verify(...where))).toEqual({
        name: 'QuorumUnavailableError', code: 'QUORUM_UNAVAILABLE', details: { attested: 2, quorum: QUORUM }
      })
      const more = entries(own(2, service.name))
      expect((await nc.submit(more)).acknowledged).toBe(2)
      expect((await nc.certificates(more, { waitMs: WAIT_MS })).every(p => p !== null)).toBe(true)
    })

    it('no validator reachable: NODES_UNAVAILABLE for submit and certificates, QUORUM_UNAVAILABLE for verify', async () => {
      const { nc } = await client([nowhere(0), nowhere(1), nowhere(2), nowhere(3)], {}, 0)
      expect(await failure(nc.submit([random32()]))).toMatchObject({ name: 'NodesUnavailableError', code: 'NODES_UNAVAILABLE' })
      expect((await failure(nc.certificates([random32()], { waitMs: 0 }))).code).toBe('NODES_UNAVAILABLE')
      expect(await failure(nc.verify(random32(), 1, 0))).toMatchObject({ code: 'QUORUM_UNAVAILABLE', details: { attested: 0, quorum: QUORUM } })
    })

    it('an AbortSignal ends a certificate wait and a verification in flight with STOPPED', async () => {
      const silent = await rogue(seeds[3] as Uint8Array, neverAnswer)
      const { nc } = await client([silent.addr], { requestTimeoutMs: 60_000 })
      const controller = new AbortController()
      const waiting = failure(nc.certificates([random32()], { waitMs: WAIT_MS, signal: controller.signal }))
      await waitFor('the certificate request to arrive', () => silent.received(PROTOCOL.certificate) === 1)
      controller.abort()
      expect(await waiting).toMatchObject({ name: 'StoppedError', code: 'STOPPED' })

      // Two honest validators and a silent one: without the signal this would wait a minute for the third.
      const mixed = await client([addr(0), addr(1), silent.addr], { requestTimeoutMs: 60_000 })
      const verifying = new AbortController()
      const verification = failure(mixed.nc.verify(random32(), 1, 0, { signal: verifying.signal }))
      await waitFor('the verify request to arrive', () => silent.received(PROTOCOL.verify) === 1)
      verifying.abort()
      expect((await verification).code).toBe('STOPPED')
    }, 30_000)

    it('a signal already aborted, or stop() during a call, gives STOPPED', async () => {
      const { nc } = await client(allNodes())
      const aborted = AbortSignal.abort()
      expect((await failure(nc.submit([random32()], { signal: aborted }))).code).toBe('STOPPED')
      expect((await failure(nc.verify(random32(), 1, 0, { signal: aborted }))).code).toBe('STOPPED')

      const silent = await rogue(seeds[3] as Uint8Array, neverAnswer)
      const stopping = await client([silent.addr], { requestTimeoutMs: 60_000 })
      const waiting = failure(stopping.nc.certificates([random32()], { waitMs: WAIT_MS }))
      await waitFor('the certificate request to arrive', () => silent.received(PROTOCOL.certificate) === 1)
      await stopping.nc.stop()
      expect((await waiting).code).toBe('STOPPED')
    }, 30_000)
  })

  function expectSignedByDistinctValidators (attestations: Attestation[]): void {
    expect(attestations.length).toBeGreaterThanOrEqual(QUORUM)
    expect(new Set(attestations.map(a => a.validator)).size).toBe(attestations.length)
    for (const a of attestations) expect(verifyAttestation(genesis, a)).toBe(true)
  }
})

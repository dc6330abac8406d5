/**
 * The service's node client on its own, against four real validators in this process (libp2p and
 * LevelDB): batches submitted, records placed in blocks whose seal it checked, certificates that
 * verify offline, verifications settled by a quorum of signed attestations. A host holding a
 * validator's key that answers garbage, mis-signed or forged answers is not believed; fewer
 * than a quorum reachable, or nobody, is a typed error; an AbortSignal or stop() ends a call.
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { certificateOf, verifyCertificate } from '../../consensus/certificate.js'
import { decode, encode, equalBytes } from '../../consensus/codec.js'
import { recordId, toHex } from '../../consensus/ids.js'
import type { Genesis, LedgerRecord } from '../../consensus/types.js'
import { clusterOffsets, freePortBase } from '../../cli/free-ports.js'
import { genesisPath, initNetwork, nodeHome } from '../../cli/init.js'
import { loadNodeConfig, readGenesis } from '../../node/config.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { PROTOCOL, VerifyRequestSchema, signAttestation, verifyAttestation, type Attestation, type BlockProof } from '../../protocol/node-api.js'
import { NodeClient, type NodeClientInit, type Placement } from '../../service/node-client.js'
import { ServiceError } from '../../service/errors.js'
import { makeRecords } from '../helpers/fixtures.js'
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
/** Records no other test submits: fresh random data hashes. */
const ownRecords = (count: number): LedgerRecord[] => makeRecords(count).map(r => ({ ...r, dataHash: random32() }))

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
    genesis = await readGenesis(genesisPath(dir))
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

  /** A started client of `addrs`; `bad` collects (node, protocol) of every answer it found unusable. */
  async function client (addrs: string[], init: Partial<NodeClientInit> = {}, reachable = addrs.length): Promise<{ nc: NodeClient, bad: Array<[string, string]> }> {
    const bad: Array<[string, string]> = []
    const nc = new NodeClient({ genesis, nodes: addrs, seed: random32(), onBadAnswer: (node, protocol) => { bad.push([node, protocol]) }, ...init })
    clients.push(nc)
    await nc.start()
    // Validators take at most 5 new connections a second from one address (libp2p's inbound
    // threshold) and tests start clients faster than that: a refused dial is retried, so wait.
    await waitFor('the client connected to every reachable node it was given', () => nc.connectedNodes().length === reachable, 20_000)
    return { nc, bad }
  }

  async function rogue (seed: Uint8Array, answer: RogueAnswer): Promise<RogueValidator> {
    const r = await startRogueValidator(seed, answer)
    rogues.push(r)
    return r
  }

  /** Records of the calling test only, committed, with their checked placements. */
  async function anchored (count: number): Promise<{ records: LedgerRecord[], placements: Placement[] }> {
    const records = ownRecords(count)
    const { nc } = await client(allNodes())
    await nc.submit(records)
    const placements = await nc.certificates(records.map(recordId), { waitMs: WAIT_MS })
    if (placements.some(p => p === null)) throw new Error('records were not committed in time')
    // Every validator holds them, not only the first to answer: later asks need not wait.
    await waitFor('every validator to hold the records', async () => {
      const statuses = await Promise.all(nodes.flatMap(n => records.map(async r => {
        const res = await fetch(`${n.http}/records/${toHex(recordId(r))}`)
        await res.arrayBuffer()
        return res.status
      })))
      return statuses.every(s => s === 200)
    })
    return { records, placements: placements as Placement[] }
  }

  describe('with honest validators', () => {
    it('submits a batch to f+1 or more validators and places every record in a checked block whose certificates verify offline', async () => {
      const records = ownRecords(25)
      const ids = records.map(recordId)
      const { nc, bad } = await client(allNodes())
      const { acknowledged } = await nc.submit(records)
      expect(acknowledged).toBeGreaterThanOrEqual(2)
      expect(acknowledged).toBeLessThanOrEqual(4)

      const placements = await nc.certificates(ids, { waitMs: WAIT_MS })
      records.forEach((record, i) => {
        const p = placements[i] as Placement
        expect(p).not.toBeNull()
        // The block's ids are what rebuilds the proof: the record sits where its proof says.
        expect(equalBytes(p.blockIds[p.proof.index] as Uint8Array, ids[i] as Uint8Array)).toBe(true)
        const certificate = certificateOf(record, p.seal, p.proof)
        expect(verifyCertificate(genesis, certificate)).toEqual({ valid: true })
        expect(new Set(p.seal.commit.signatures.map(s => s.validator)).size).toBeGreaterThanOrEqual(QUORUM)
      })
      expect(bad).toEqual([])

      // Submitting again is acknowledged (idempotent); asking twice for an id gives one placement.
      expect((await nc.submit(records.slice(0, 3))).acknowledged).toBeGreaterThanOrEqual(2)
      const twice = await nc.certificates([ids[0] as Uint8Array, ids[0] as Uint8Array], { waitMs: 0 })
      expect(twice[0]).not.toBeNull()
      expect(twice[1]).toBe(twice[0])
    })

    it('gives null for an id no validator holds, next to ids they do', async () => {
      const { records } = await anchored(2)
      const { nc } = await client(allNodes())
      const unknown = random32()
      const placements = await nc.certificates([unknown, recordId(records[0] as LedgerRecord)], { waitMs: 0 })
      expect(placements[0]).toBeNull()
      expect(verifyCertificate(genesis, certificateOf(records[0] as LedgerRecord, (placements[1] as Placement).seal, (placements[1] as Placement).proof))).toEqual({ valid: true })
    })

    it('verifies with a quorum of signed attestations: intact, changed and unknown', async () => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      const id = recordId(record)
      const { nc, bad } = await client(allNodes())

      const intact = await nc.verify(id, record.dataHash)
      expect(intact.quorum).toBe(QUORUM)
      expect(intact.matches).toBeGreaterThanOrEqual(QUORUM)
      expect(toHex(intact.anchoredHash as Uint8Array)).toBe(toHex(record.dataHash))
      expectSignedByDistinctValidators(intact.attestations)
      expect(intact.attestations.every(a => a.match)).toBe(true)

      const changed = await nc.verify(id, random32())
      expect(changed.matches).toBe(0)
      expect(toHex(changed.anchoredHash as Uint8Array)).toBe(toHex(record.dataHash))
      expectSignedByDistinctValidators(changed.attestations)

      const unknown = await nc.verify(random32(), record.dataHash)
      expect(unknown).toMatchObject({ matches: 0, anchoredHash: null })
      expectSignedByDistinctValidators(unknown.attestations)
      expect(bad).toEqual([])
    })

    it('does not wait for a validator that never answers once a quorum matched', async () => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      const silent = await rogue(seeds[3] as Uint8Array, neverAnswer)
      // Were the silent one waited for, this call would outlast the test's timeout.
      const { nc } = await client([addr(0), addr(1), addr(2), silent.addr], { requestTimeoutMs: 60_000 })
      const outcome = await nc.verify(recordId(record), record.dataHash)
      expect(outcome.matches).toBe(QUORUM)
      expect(outcome.attestations.map(a => a.validator)).toEqual([0, 1, 2])
    }, 30_000)
  })

  describe('with a host holding validator 3\'s key that answers what it likes', () => {
    /** An attestation as validator 3 would sign it for the request, changed by `edit` before or after signing. */
    const attest = (request: Uint8Array, edit: { before?: Partial<Attestation>, seed?: Uint8Array, after?: (a: Attestation) => Attestation } = {}): Uint8Array => {
      const { id, dataHash } = decode(VerifyRequestSchema, request)
      const a = signAttestation({
        chainId: genesis.chainId, recordId: id, presentedHash: dataHash, anchoredHash: dataHash, match: true, height: 1, validator: 3, time: Date.now(), ...edit.before
      }, edit.seed ?? seeds[3] as Uint8Array)
      return encode({ attestation: edit.after?.(a) ?? a })
    }
    const flipped = (bytes: Uint8Array): Uint8Array => { const copy = Uint8Array.from(bytes); copy[0] = (copy[0] as number) ^ 1; return copy }

    const unbelievable: Array<[string, (request: Uint8Array) => Uint8Array]> = [
      ['garbage bytes', () => new Uint8Array(randomBytes(48))],
      ['an attestation whose signature is altered', r => attest(r, { after: a => ({ ...a, signature: flipped(a.signature) }) })],
      ['an attestation signed with another key', r => attest(r, { seed: random32() })],
      ['an attestation naming another validator', r => attest(r, { before: { validator: 2 } })],
      ['an attestation of another record', r => attest(r, { before: { recordId: random32() } })],
      ['an attestation that contradicts itself', r => attest(r, { before: { match: false } })]
    ]

    it.each(unbelievable)('verify does not count %s: two honest validators are short of a quorum', async (_what, answer) => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      const r = await rogue(seeds[3] as Uint8Array, async (_protocol, request) => answer(request))
      const { nc, bad } = await client([addr(0), addr(1), r.addr])
      expect(await failure(nc.verify(recordId(record), record.dataHash))).toEqual({
        name: 'QuorumUnavailableError', code: 'QUORUM_UNAVAILABLE', details: { attested: 2, quorum: QUORUM }
      })
      expect(bad).toEqual([[r.addr, PROTOCOL.verify]])
    })

    it('verify counts the same host once its attestation is sound (the control of the cases above)', async () => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      const r = await rogue(seeds[3] as Uint8Array, async (_protocol, request) => attest(request))
      const { nc, bad } = await client([addr(0), addr(1), r.addr])
      const outcome = await nc.verify(recordId(record), record.dataHash)
      expect(outcome.attestations.map(a => a.validator)).toEqual([0, 1, 3])
      expect(outcome.matches).toBe(QUORUM)
      expect(bad).toEqual([])
    })

    it('verify does not count a host whose key is no validator\'s', async () => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      const stranger = random32()
      const r = await rogue(stranger, async (_protocol, request) => attest(request, { seed: stranger }))
      const { nc, bad } = await client([addr(0), addr(1), r.addr])
      expect((await failure(nc.verify(recordId(record), record.dataHash))).code).toBe('QUORUM_UNAVAILABLE')
      expect(bad).toEqual([[r.addr, PROTOCOL.verify]])
    })

    it('one validator attesting that a changed hash matches cannot make it pass', async () => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      // Validly signed by validator 3, and false: it says whatever is presented is what was anchored.
      const liar = await rogue(seeds[3] as Uint8Array, async (_protocol, request) => attest(request))
      const { nc } = await client([addr(0), addr(1), addr(2), liar.addr])
      const outcome = await nc.verify(recordId(record), random32())
      expect(outcome.matches).toBeLessThan(QUORUM)
      expect(toHex(outcome.anchoredHash as Uint8Array)).toBe(toHex(record.dataHash))
    })

    /** What a host answers to a certificate request, from the honest proof of the block holding the record. */
    const forgeries: Array<[string, (honest: BlockProof) => BlockProof]> = [
      ['commit signatures that are not the validators\'', b => ({ ...b, commit: { ...b.commit, signatures: b.commit.signatures.map(s => ({ ...s, signature: new Uint8Array(randomBytes(64)) })) } })],
      ['a commit signed by fewer than a quorum', b => ({ ...b, commit: { ...b.commit, signatures: b.commit.signatures.slice(0, QUORUM - 1) } })],
      ['record ids that do not rebuild the header\'s root', b => ({ ...b, recordIds: [...b.recordIds, random32()] })],
      ['a header the commit does not sign', b => ({ ...b, header: { ...b.header, time: b.header.time + 1 } })]
    ]

    it.each(forgeries)('certificates do not place records in a block proof with %s', async (_what, forge) => {
      const { records, placements } = await anchored(1)
      const id = recordId(records[0] as LedgerRecord)
      const honest = placements[0] as Placement
      const proof = forge({ header: honest.seal.header, commit: honest.seal.commit, recordIds: [...honest.blockIds] })
      const r = await rogue(seeds[3] as Uint8Array, async () => encode({ blocks: [proof] }))

      // Alone, it places nothing.
      const alone = await client([r.addr])
      expect(await alone.nc.certificates([id], { waitMs: 0 })).toEqual([null])
      expect(alone.bad).toEqual([[r.addr, PROTOCOL.certificate]])

      // Asked first (a new client starts its rotation at the first node), it does not stop an honest node's answer.
      const mixed = await client([r.addr, addr(0)])
      const [placement] = await mixed.nc.certificates([id], { waitMs: 0 })
      expect(r.received(PROTOCOL.certificate)).toBe(2)
      expect(verifyCertificate(genesis, certificateOf(records[0] as LedgerRecord, (placement as Placement).seal, (placement as Placement).proof))).toEqual({ valid: true })
      expect(mixed.bad).toEqual([[r.addr, PROTOCOL.certificate]])
    })

    it('certificates place records with the same host once it relays the honest proof (the control of the cases above)', async () => {
      const { records, placements } = await anchored(1)
      const honest = placements[0] as Placement
      const r = await rogue(seeds[3] as Uint8Array, async () => encode({ blocks: [{ header: honest.seal.header, commit: honest.seal.commit, recordIds: [...honest.blockIds] }] }))
      const { nc, bad } = await client([r.addr])
      const [placement] = await nc.certificates([recordId(records[0] as LedgerRecord)], { waitMs: 0 })
      expect(placement).not.toBeNull()
      expect(bad).toEqual([])
    })

    it('a host answering garbage to everything gives NODES_UNAVAILABLE for submit and certificates', async () => {
      const r = await rogue(seeds[3] as Uint8Array, async () => new Uint8Array(randomBytes(48)))
      const { nc, bad } = await client([r.addr])
      expect((await failure(nc.submit(ownRecords(2)))).code).toBe('NODES_UNAVAILABLE')
      expect((await failure(nc.certificates([random32()], { waitMs: 0 }))).code).toBe('NODES_UNAVAILABLE')
      expect(bad).toEqual([[r.addr, PROTOCOL.submit], [r.addr, PROTOCOL.certificate]])
    })

    it('a submit acknowledgement that does not answer every record is not an acknowledgement', async () => {
      const r = await rogue(seeds[3] as Uint8Array, async () => encode({ status: ['pending'] }))
      const { nc, bad } = await client([r.addr])
      expect((await failure(nc.submit(ownRecords(2)))).code).toBe('NODES_UNAVAILABLE')
      expect(bad).toEqual([[r.addr, PROTOCOL.submit]])
    })
  })

  describe('unreachable validators and cancellation', () => {
    /** Validator i's peer id at a port where nothing listens. */
    const nowhere = (i: number): string => `/ip4/127.0.0.1/tcp/1/p2p/${(nodes[i] as RunningNode).peerId}`

    it('fewer than a quorum reachable: QUORUM_UNAVAILABLE for verify, the others still answer submit and certificates', async () => {
      const { records } = await anchored(1)
      const record = records[0] as LedgerRecord
      const { nc } = await client([addr(0), addr(1), nowhere(2), nowhere(3)], {}, 2)
      expect(await failure(nc.verify(recordId(record), record.dataHash))).toEqual({
        name: 'QuorumUnavailableError', code: 'QUORUM_UNAVAILABLE', details: { attested: 2, quorum: QUORUM }
      })
      const more = ownRecords(2)
      expect((await nc.submit(more)).acknowledged).toBe(2)
      expect((await nc.certificates(more.map(recordId), { waitMs: WAIT_MS })).every(p => p !== null)).toBe(true)
    })

    it('no validator reachable: NODES_UNAVAILABLE for submit and certificates, QUORUM_UNAVAILABLE for verify', async () => {
      const { nc } = await client([nowhere(0), nowhere(1), nowhere(2), nowhere(3)], {}, 0)
      expect(await failure(nc.submit(ownRecords(1)))).toMatchObject({ name: 'NodesUnavailableError', code: 'NODES_UNAVAILABLE' })
      expect((await failure(nc.certificates([random32()], { waitMs: 0 }))).code).toBe('NODES_UNAVAILABLE')
      expect(await failure(nc.verify(random32(), random32()))).toMatchObject({ code: 'QUORUM_UNAVAILABLE', details: { attested: 0, quorum: QUORUM } })
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
      const verification = failure(mixed.nc.verify(random32(), random32(), { signal: verifying.signal }))
      await waitFor('the verify request to arrive', () => silent.received(PROTOCOL.verify) === 1)
      verifying.abort()
      expect((await verification).code).toBe('STOPPED')
    }, 30_000)

    it('a signal already aborted, or stop() during a call, gives STOPPED', async () => {
      const { nc } = await client(allNodes())
      const aborted = AbortSignal.abort()
      expect((await failure(nc.submit(ownRecords(1), { signal: aborted }))).code).toBe('STOPPED')
      expect((await failure(nc.verify(random32(), random32(), { signal: aborted }))).code).toBe('STOPPED')

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

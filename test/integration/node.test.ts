/**
 * Four validators in one process over real libp2p and LevelDB, reached by the registered services'
 * peers (a stranger's key is refused at the connection): a registered service's submission is committed by all, and the blocks a node
 * hands out make certificates that verify offline and name the service; an entry already on
 * chain is reported so, and a submission holding one is not taken; verify attestations say
 * match, mismatch or not-found, signed; submissions not signed by a registered service, or under
 * another service's index, are refused with a code at the submit protocol and rejected in gossip,
 * and nothing of them is stored; malformed requests are refused with a code.
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCertificate, verifyCertificate } from '../../consensus/certificate.js'
import { decode, encode } from '../../consensus/codec.js'
import { entriesOf, entryOf, packEntries, signSubmission } from '../../consensus/entries.js'
import type { Block, LedgerRecord, Submission } from '../../consensus/types.js'
import { waitFor } from '../../lib/wait-for.js'
import { Gossip } from '../../net/gossip.js'
import { PeerUnreachableError } from '../../net/errors.js'
import { createHost, type GossipHost, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'
import { encodeEnvelope } from '../../node/gossip-envelope.js'
import { topics, type RunningNode } from '../../node/node.js'
import {
  CertificateResponseSchema, ErrorResponseSchema, PROTOCOL, RemoteRefusalError, SubmitResponseSchema, VerifyResponseSchema,
  decodeResponse, verifyAttestation, type Attestation, type SealedBlock
} from '../../protocol/node-api.js'
import { makeEntries, makeEntry, makeNetwork, makeRecord, makeSubmission, testSalt } from '../helpers/fixtures.js'
import { startCluster, type NodeCluster } from '../helpers/node-cluster.js'

// Service 2's key is the gossiping peer's.
const net = makeNetwork(4, { chainId: 'node-test', services: 3 })
const { genesis } = net
const freshSeed = (): Uint8Array => new Uint8Array(randomBytes(32))

/** Where `entry` sits in one of `blocks`: the block and its leaf index. */
function placeOf (blocks: SealedBlock[], entry: Uint8Array): { sealed: SealedBlock, index: number } | undefined {
  for (const sealed of blocks) {
    const index = sealed.block.submissions.flatMap(entriesOf).findIndex(e => Buffer.from(e).equals(entry))
    if (index !== -1) return { sealed, index }
  }
  return undefined
}

const entriesIn = (block: Block): Uint8Array[] => block.submissions.flatMap(entriesOf)

describe('validators on libp2p and LevelDB', () => {
  let cluster: NodeCluster
  let nodes: RunningNode[] = []
  /** Service 0's peer (its libp2p key is its registered key), and service 1's. */
  let client: Host
  let rr: RequestResponse
  let rr1: RequestResponse
  const extra: Host[] = []

  beforeAll(async () => {
    cluster = await startCluster(net)
    nodes = cluster.nodes
    const peers = nodes.flatMap(n => n.p2p.slice(0, 1))
    client = await createHost({ privateKeySeed: net.serviceSeeds[0]!, peers })
    rr = new RequestResponse(client.node)
    const client1 = await createHost({ privateKeySeed: net.serviceSeeds[1]!, peers })
    extra.push(client1)
    rr1 = new RequestResponse(client1.node)
  })

  afterAll(async () => {
    await Promise.allSettled([client, ...extra].map(async h => { await h?.stop() }))
    await cluster?.stop()
  })

  const ask = async (node: RunningNode, protocol: string, body: unknown, via = rr): Promise<Uint8Array> =>
    await via.request(node.peerId, protocol, encode(body), { timeoutMs: 30_000, maxResponseBytes: 16 * 1024 * 1024 })
  /** Sent by the service the submission names (a service may submit only its own). */
  const submit = async (node: RunningNode, submission: Submission): Promise<string[]> =>
    decodeResponse(SubmitResponseSchema, await ask(node, PROTOCOL.submit, { submission }, submission.service === 1 ? rr1 : rr)).status
  const blocksHolding = async (node: RunningNode, entries: Uint8Array[], waitMs: number): Promise<SealedBlock[]> =>
    decodeResponse(CertificateResponseSchema, await ask(node, PROTOCOL.certificate, { entries: packEntries(entries), waitMs })).blocks
  const attest = async (node: RunningNode, entry: Uint8Array, height: number, index: number): Promise<Attestation> =>
    decodeResponse(VerifyResponseSchema, await ask(node, PROTOCOL.verify, { entry, height, index })).attestation
  /** The refusal code a node answers a submit request from service 0's peer with. */
  const refusalOf = async (node: RunningNode, submission: Submission): Promise<string> => {
    try {
      decodeResponse(SubmitResponseSchema, await ask(node, PROTOCOL.submit, { submission }))
    } catch (err) {
      if (err instanceof RemoteRefusalError) return err.code
      throw err
    }
    throw new Error('the submission was taken')
  }
  /** What each node holds of `entries`: pending entries in its mempool, and whether any is on chain. */
  const holdings = async (entries: Uint8Array[]): Promise<Array<{ mempool: number, height: number, anyOnChain: boolean }>> =>
    await Promise.all(nodes.map(async n => ({
      mempool: n.driver.mempoolSize,
      height: n.driver.status().tip.height,
      anyOnChain: (await Promise.all(entries.map(async e => await n.driver.waitForEntries([e], 0)))).includes(true)
    })))

  // Records 0..19 through service 0, records 100..104 through service 1 (their records name it).
  const records: LedgerRecord[] = [...Array.from({ length: 20 }, (_, i) => makeRecord(i)), ...Array.from({ length: 5 }, (_, k) => makeRecord(100 + k, { service: 'service-1' }))]
  const salts = [...Array.from({ length: 20 }, (_, i) => testSalt(i)), ...Array.from({ length: 5 }, (_, k) => testSalt(100 + k))]
  const entries = records.map((r, i) => entryOf(r, salts[i] as Uint8Array))

  it('commits registered services\' submissions; the blocks every node hands out make certificates that verify offline and name their service', async () => {
    expect(await submit(nodes[1]!, makeSubmission(net, entries.slice(0, 20)))).toEqual(Array(20).fill('pending'))
    expect(await submit(nodes[2]!, makeSubmission(net, entries.slice(20), 1))).toEqual(Array(5).fill('pending'))
    for (const node of nodes) {
      const blocks = await blocksHolding(node, entries, 20_000)
      // Each block once, in height order.
      const heights = blocks.map(b => b.block.header.height)
      expect(heights).toEqual([...new Set(heights)].sort((a, b) => a - b))
      records.forEach((record, i) => {
        const place = placeOf(blocks, entries[i]!)
        expect(place, `entry ${i}`).toBeDefined()
        const certificate = buildCertificate(place!.sealed.block, place!.sealed.commit, place!.index, record, salts[i]!)
        expect(verifyCertificate(genesis, certificate)).toMatchObject({ valid: true, service: record.service, height: place!.sealed.block.header.height })
      })
    }
  })

  it('reports entries on chain as committed, and does not take a submission holding one: the others are to be resubmitted', async () => {
    expect(await submit(nodes[2]!, makeSubmission(net, entries.slice(0, 3)))).toEqual(['committed', 'committed', 'committed'])
    const mixed = makeSubmission(net, [makeEntry(500), entries[4]!, makeEntry(501)])
    const before = nodes[3]!.driver.mempoolSize
    expect(await submit(nodes[3]!, mixed)).toEqual(['resubmit', 'committed', 'resubmit'])
    expect(nodes[3]!.driver.mempoolSize).toBe(before)
  })

  it('attests match, mismatch and not-found, each signed by the validator on this chain', async () => {
    const { sealed, index } = placeOf(await blocksHolding(nodes[0]!, [entries[7]!], 0), entries[7]!)!
    const height = sealed.block.header.height
    const entry = entries[7]!
    const match = await attest(nodes[3]!, entry, height, index)
    expect(match).toMatchObject({ chainId: genesis.chainId, entry, height, index, anchored: entry, outcome: 'match', validator: 3 })
    // A tampered document rebuilds another entry: what is anchored there is named.
    const tampered = makeEntry(9_999)
    const mismatch = await attest(nodes[0]!, tampered, height, index)
    expect(mismatch).toMatchObject({ entry: tampered, anchored: entry, outcome: 'mismatch', validator: 0 })
    // The right entry at a wrong place is no match either.
    const elsewhere = (index + 1) % sealed.block.header.entryCount
    expect(await attest(nodes[1]!, entry, height, elsewhere)).toMatchObject({ anchored: entriesIn(sealed.block)[elsewhere], outcome: elsewhere === index ? 'match' : 'mismatch' })
    const beyondLeaves = await attest(nodes[1]!, entry, height, sealed.block.header.entryCount)
    expect(beyondLeaves).toMatchObject({ anchored: null, outcome: 'not-found' })
    const beyondTip = await attest(nodes[2]!, entry, height + 1_000_000, 0)
    expect(beyondTip).toMatchObject({ anchored: null, outcome: 'not-found' })
    for (const a of [match, mismatch, beyondLeaves, beyondTip]) expect(verifyAttestation(genesis, a)).toBe(true)
    // The signature covers the outcome.
    expect(verifyAttestation(genesis, { ...mismatch, outcome: 'match' })).toBe(false)
  })

  it('refuses at the submit protocol a submission under another service\'s index or with a bad signature, and stores nothing of it', async () => {
    const strangers = makeEntries(4, 2_000)
    const before = await holdings(strangers)
    expect(before.every(h => !h.anyOnChain)).toBe(true)
    const packed = packEntries(strangers)
    // Service 0's peer, under an index the genesis does not register or another service's, even signed by that service.
    expect(await refusalOf(nodes[0]!, { ...signSubmission(genesis.chainId, 2, packed, freshSeed()), service: 2 })).toBe('WRONG_SERVICE')
    expect(await refusalOf(nodes[0]!, { ...makeSubmission(net, strangers, 1) })).toBe('WRONG_SERVICE')
    // A key of its own, claiming the sender's index.
    expect(await refusalOf(nodes[0]!, signSubmission(genesis.chainId, 0, packed, freshSeed()))).toBe('BAD_SIGNATURE')
    // The registered service's signature over other entries, or for another chain.
    const signed = makeSubmission(net, strangers)
    expect(await refusalOf(nodes[1]!, { ...signed, entries: packEntries(makeEntries(4, 3_000)) })).toBe('BAD_SIGNATURE')
    expect(await refusalOf(nodes[1]!, signSubmission('another-chain', 0, packed, net.serviceSeeds[0]!))).toBe('BAD_SIGNATURE')
    expect(await holdings(strangers)).toEqual(before)
  })

  it('refuses a stranger\'s key at the connection, before any protocol', async () => {
    const stranger = await createHost({ privateKeySeed: freshSeed() })
    extra.push(stranger)
    const strangerRr = new RequestResponse(stranger.node)
    const entry = makeEntries(1, 6_000)
    const before = await holdings(entry)
    const started = Date.now()
    const failure = await strangerRr.request(nodes[0]!.p2p[0]!, PROTOCOL.submit, encode({ submission: makeSubmission(net, entry) }), { timeoutMs: 10_000 }).catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(PeerUnreachableError)
    // Cut right after the handshake, not left to time out.
    expect(Date.now() - started).toBeLessThan(5_000)
    // Noise settles the muxer within its handshake, so the stranger may see its side open for a moment.
    await waitFor('the stranger to be cut off', () => stranger.connectedPeers().length === 0, 5_000, 20)
    expect(await holdings(entry)).toEqual(before)
  })

  it('rejects in gossip, from an admitted peer, submissions of an unregistered service or with a bad signature: they never reach the mempool', async () => {
    const topic = topics(genesis.chainId).submissions
    // A registered service's key: admitted, and still only believed for what its messages' signatures prove.
    const peer: GossipHost = await createHost({ privateKeySeed: net.serviceSeeds[2]!, peers: nodes[0]!.p2p.slice(0, 1), scoredTopics: [topic], gossip: true })
    extra.push(peer)
    const gossip = new Gossip(peer.node)
    gossip.subscribe(topic, () => 'accept', () => {})
    await gossip.waitForTopicPeers(topic, 1, AbortSignal.timeout(10_000))

    const bad = makeEntries(3, 4_000)
    const before = await holdings(bad)
    const unknown = signSubmission(genesis.chainId, 7, packEntries(bad), freshSeed())
    // Under the peer's own index (another's would be refused before any signature is checked).
    const forged = signSubmission(genesis.chainId, 2, packEntries(bad), freshSeed())
    expect(await gossip.publish(topic, encodeEnvelope({ type: 'submissions', submissions: [unknown] }, 0))).toBe(1)
    expect(await gossip.publish(topic, encodeEnvelope({ type: 'submissions', submissions: [forged] }, 0))).toBe(1)
    // Rejected, not merely ignored: gossipsub penalises the peer that sent them.
    await waitFor('the peer to be penalised', () => nodes[0]!.peerScore(peer.peerId) < 0, 10_000, 10)
    // A good one after them, gossiped to node 0 only: once node 0 holds it, it has judged the two before.
    const good = makeEntries(2, 4_100)
    expect(await gossip.publish(topic, encodeEnvelope({ type: 'submissions', submissions: [makeSubmission(net, good, 2)] }, 0))).toBe(1)
    await waitFor('node 0 to take the gossiped submission', async () => nodes[0]!.driver.mempoolSize === 2 || await nodes[0]!.driver.waitForEntries(good, 0), 10_000, 10)
    // The service hands it to the others as well, so it commits whatever the round's leader.
    for (const node of nodes.slice(1)) await submit(node, makeSubmission(net, good))
    for (const node of nodes) expect(await node.driver.waitForEntries(good, 20_000)).toBe(true)
    const after = await holdings(bad)
    expect(after.map(h => ({ mempool: h.mempool, anyOnChain: h.anyOnChain }))).toEqual(before.map(h => ({ mempool: h.mempool, anyOnChain: false })))
  })

  it('refuses malformed requests with an error code', async () => {
    const bytes = await rr.request(nodes[0]!.peerId, PROTOCOL.submit, Uint8Array.of(1, 2, 3), { timeoutMs: 10_000 })
    expect(decode(ErrorResponseSchema, bytes).error.code).toBe('MALFORMED')
    const signed = makeSubmission(net, makeEntries(1, 5_000))
    const empty = decode(ErrorResponseSchema, await ask(nodes[0]!, PROTOCOL.submit, { submission: { ...signed, entries: new Uint8Array(0) } }))
    expect(empty.error.code).toBe('INVALID_FIELD')
    const ragged = decode(ErrorResponseSchema, await ask(nodes[0]!, PROTOCOL.certificate, { entries: new Uint8Array(33), waitMs: 0 }))
    expect(ragged.error.code).toBe('INVALID_FIELD')
    const noPlace = decode(ErrorResponseSchema, await ask(nodes[0]!, PROTOCOL.verify, { entry: makeEntry(1), height: 0, index: 0 }))
    expect(noPlace.error.code).toBe('INVALID_FIELD')
  })
})

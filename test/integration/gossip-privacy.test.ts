/**
 * What travels between validators reveals nothing of the records behind the entries: a peer
 * holding a registered service's key listens on the consensus and submissions topics while known
 * records' entries are submitted and committed, and searches the raw bytes of every gossip
 * message it received for the records' data hashes (raw and hex), names and owner. As a control
 * that the capture works, the entries themselves must be found in it.
 */
import '../../lib/promise-shim.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { toHex } from '../../consensus/ids.js'
import { Gossip } from '../../net/gossip.js'
import { createHost, type GossipHost } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'
import { topics } from '../../node/node.js'
import { PROTOCOL, SubmitResponseSchema, decodeResponse } from '../../protocol/node-api.js'
import { makeEntry, makeNetwork, makeRecord, makeSubmission } from '../helpers/fixtures.js'
import { startCluster, type NodeCluster } from '../helpers/node-cluster.js'

const net = makeNetwork(4, { chainId: 'gossip-privacy' })
const RECORDS = Array.from({ length: 20 }, (_, i) => 9_000 + i)

describe('gossip between validators', () => {
  let cluster: NodeCluster
  let listener: GossipHost
  const captured: Uint8Array[] = []

  beforeAll(async () => {
    cluster = await startCluster(net)
    const topic = topics(net.genesis.chainId)
    listener = await createHost({
      privateKeySeed: net.serviceSeeds[0] as Uint8Array,
      peers: cluster.nodes.flatMap(n => n.p2p.slice(0, 1)),
      scoredTopics: [topic.consensus, topic.submissions],
      gossip: true
    })
    const gossip = new Gossip(listener.node)
    for (const t of [topic.consensus, topic.submissions]) {
      // Every message is kept as it arrived, before any decoding.
      gossip.subscribe(t, data => { captured.push(Uint8Array.from(data)); return 'ignore' }, () => {})
    }
    await gossip.waitForTopicPeers(topic.consensus, cluster.nodes.length, AbortSignal.timeout(20_000))
  }, 60_000)

  afterAll(async () => {
    await listener?.stop()
    await cluster?.stop()
  })

  it('carries the entries of known records but none of their data hashes, names or owners', async () => {
    const entries = RECORDS.map(makeEntry)
    const rr = new RequestResponse(listener.node)
    const submission = makeSubmission(net, entries)
    for (const node of cluster.nodes) {
      const answer = await rr.request(node.peerId, PROTOCOL.submit, encode({ submission }), { timeoutMs: 20_000 })
      expect(decodeResponse(SubmitResponseSchema, answer).status.every(s => s === 'pending' || s === 'committed')).toBe(true)
    }
    for (const node of cluster.nodes) expect(await node.driver.waitForEntries(entries, 30_000)).toBe(true)

    const haystack = Buffer.concat(captured)
    const found = (needle: Uint8Array | string): boolean => haystack.includes(typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle))
    // The control: the proposal that committed them went by, entries and all.
    expect(captured.length).toBeGreaterThan(0)
    expect(entries.filter(e => !found(e))).toEqual([])

    const leaks: string[] = []
    for (const i of RECORDS) {
      const record = makeRecord(i)
      if (found(record.dataHash)) leaks.push(`data hash of record ${i}`)
      if (found(toHex(record.dataHash))) leaks.push(`hex data hash of record ${i}`)
      if (record.meta.name !== undefined && found(record.meta.name)) leaks.push(`name ${record.meta.name}`)
    }
    if (found('alice')) leaks.push('owner alice')
    expect(leaks).toEqual([])
  }, 90_000)
})

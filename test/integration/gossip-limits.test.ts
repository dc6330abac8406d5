/**
 * Per-peer gossip limits on a running network: a registered service (a real libp2p peer with its
 * registered key) flooding the submissions topic is held to its budget (messages beyond it are
 * counted and never reach the machine) while the network keeps committing; and a service cannot
 * gossip another service's submission, even one validly signed by that service: services do not
 * relay. The peers join one validator only, so everything they send enters through its checks.
 */
import '../../lib/promise-shim.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { waitFor } from '../../lib/wait-for.js'
import { Gossip } from '../../net/gossip.js'
import { createHost, type GossipHost } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'
import { encodeEnvelope, GOSSIP_LIMITS } from '../../node/gossip-envelope.js'
import { topics, type RunningNode } from '../../node/node.js'
import { PROTOCOL, SubmitResponseSchema, decodeResponse } from '../../protocol/node-api.js'
import { makeEntries, makeEntry, makeNetwork, makeSubmission } from '../helpers/fixtures.js'
import { startCluster, type NodeCluster } from '../helpers/node-cluster.js'
import { parseExposition, valueOf } from '../helpers/prometheus-text.js'

const net = makeNetwork(4, { chainId: 'gossip-limits', services: 2 })
const topic = topics(net.genesis.chainId)
const MAX_FLOOD = 5000

describe('gossip limits per peer', () => {
  let cluster: NodeCluster
  const peers: GossipHost[] = []

  /** A registered service's peer on gossip, joined to validator 0 only. */
  const joinAs = async (service: number): Promise<{ gossip: Gossip, rr: RequestResponse, peerId: string }> => {
    const host = await createHost({
      privateKeySeed: net.serviceSeeds[service] as Uint8Array,
      peers: [cluster.nodes[0]?.p2p[0] as string],
      scoredTopics: [topic.consensus, topic.submissions],
      gossip: true
    })
    peers.push(host)
    const gossip = new Gossip(host.node)
    await gossip.waitForTopicPeers(topic.submissions, 1, AbortSignal.timeout(15_000))
    return { gossip, rr: new RequestResponse(host.node), peerId: host.peerId }
  }
  const dropped = async (node: RunningNode, reason: string): Promise<number> =>
    valueOf(parseExposition(await (await fetch(`${node.http}/metrics`)).text()), 'trustnet_gossip_dropped_total', { reason, topic: 'submissions' }) ?? 0
  const onChain = async (node: RunningNode, entries: Uint8Array[]): Promise<number> =>
    (await Promise.all(entries.map(async e => await node.driver.waitForEntries([e], 0)))).filter(Boolean).length
  /** Submits through validator 0's submit protocol and waits until every validator holds the entries on chain. */
  const commitEverywhere = async (rr: RequestResponse, entries: Uint8Array[], service: number): Promise<void> => {
    const answer = await rr.request(cluster.nodes[0]?.peerId as string, PROTOCOL.submit, encode({ submission: makeSubmission(net, entries, service) }), { timeoutMs: 10_000 })
    expect(decodeResponse(SubmitResponseSchema, answer).status).toEqual(entries.map(() => 'pending'))
    for (const n of cluster.nodes) expect(await n.driver.waitForEntries(entries, 15_000)).toBe(true)
  }

  beforeAll(async () => {
    cluster = await startCluster(net)
  }, 30_000)

  afterAll(async () => {
    await Promise.allSettled(peers.map(async p => { await p.stop() }))
    await cluster?.stop()
  })

  it('a registered service flooding gossip is held to its budget while the network keeps committing', async () => {
    const node = cluster.nodes[0] as RunningNode
    const { gossip, rr } = await joinAs(0)
    // Valid submissions of one entry each, published back to back until the network has committed others meanwhile.
    const flood: Uint8Array[] = []
    let flooding = true
    const started = performance.now()
    const publishing = (async () => {
      while (flooding && flood.length < MAX_FLOOD) {
        const entry = makeEntry(50_000 + flood.length)
        flood.push(entry)
        await gossip.publish(topic.submissions, encodeEnvelope({ type: 'submissions', submissions: [makeSubmission(net, [entry])] }, 0))
        // The validators run in this process too: let them read their sockets between messages.
        await new Promise(resolve => setImmediate(resolve))
      }
    })()
    try {
      await commitEverywhere(rr, makeEntries(2, 60_000), 0)
    } finally {
      flooding = false
      await publishing
    }
    const seconds = (performance.now() - started) / 1000
    // What the budget lets through at most: its burst, and what it refilled while the flood lasted.
    const allowed = Math.ceil(GOSSIP_LIMITS.service.burstMessages + GOSSIP_LIMITS.service.messagesPerSecond * seconds)
    // The flood went well past it.
    expect(flood.length - allowed).toBeGreaterThan(100)
    await waitFor('validator 0 to have counted the flood', async () => await dropped(node, 'over-budget') >= flood.length - allowed, 10_000, 50)

    // What got through is committed like any submission; the rest is nowhere.
    await waitFor('the flood that got through to be committed', () => cluster.nodes.every(n => n.driver.mempoolSize === 0), 15_000, 50)
    const delivered = await Promise.all(cluster.nodes.map(async n => await onChain(n, flood)))
    console.info(`flood of ${flood.length} messages in ${seconds.toFixed(2)} s while 2 entries committed: ${delivered[0]} committed (budget ${allowed}), ${await dropped(node, 'over-budget')} dropped at validator 0`)
    expect(delivered[0]).toBeGreaterThan(0)
    expect(delivered[0]).toBeLessThanOrEqual(allowed)
    expect(new Set(delivered).size).toBe(1)
  }, 40_000)

  it('a service gossiping another service\'s submission (validly signed by it) is rejected; its own is taken', async () => {
    const node = cluster.nodes[0] as RunningNode
    const { gossip, peerId } = await joinAs(1)
    const before = await dropped(node, 'wrong-service')
    const others = makeEntries(1, 70_000)
    // Signed by service 0, relayed by service 1.
    await gossip.publish(topic.submissions, encodeEnvelope({ type: 'submissions', submissions: [makeSubmission(net, others, 0)] }, 0))
    await waitFor('the relayed submission to be refused', async () => await dropped(node, 'wrong-service') === before + 1, 10_000, 50)
    await waitFor('service 1 to lose score at validator 0', () => node.peerScore(peerId) < 0, 10_000, 50)

    // Its own submission, gossiped the same way, is committed; the relayed one is nowhere.
    const own = makeEntries(1, 71_000)
    await gossip.publish(topic.submissions, encodeEnvelope({ type: 'submissions', submissions: [makeSubmission(net, own, 1)] }, 0))
    for (const n of cluster.nodes) expect(await n.driver.waitForEntries(own, 15_000)).toBe(true)
    for (const n of cluster.nodes) expect(await onChain(n, others)).toBe(0)
  }, 30_000)
})

/**
 * The network layer on real libp2p, in one process: four validator hosts on 127.0.0.1 form a
 * closed mesh from bootstrap addresses; gossip is delivered once per peer, straight from its
 * publisher, and never when the validator rejects it; request/response round-trips, fails
 * with typed errors, and holds a burst beyond the peer's stream limit until streams free up;
 * the gater keeps outsiders out; a silent socket is closed when the inbound handshake times out,
 * and an allowed peer holds no more connections than its limit; a dropped connection is re-dialled; a host asked for no gossip
 * runs none of its services. Every wait is on an event or a polled condition with a deadline.
 */

import '../../lib/promise-shim.js'
import { connect } from 'node:net'
import { ed25519 } from '@noble/curves/ed25519.js'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createHost, peerIdFromEd25519PublicKey, type GossipHost, type Host } from '../../net/host.js'
import { Gossip } from '../../net/gossip.js'
import { RequestResponse } from '../../net/request-response.js'
import { waitFor as pollUntil } from '../../lib/wait-for.js'

const N = 4
const TOPIC = 'trustnet/test/votes/1'
const ECHO = '/trustnet/test/echo/1.0.0'

const seedOf = (i: number): Uint8Array => new Uint8Array(32).fill(i + 1)
const validatorPub = (i: number): Uint8Array => ed25519.getPublicKey(seedOf(i))
const allowed = new Set(Array.from({ length: N }, (_, i) => peerIdFromEd25519PublicKey(validatorPub(i))))

/** Polls `cond` every 20 ms, for 8 s at most. */
async function waitFor (what: string, cond: () => boolean): Promise<void> {
  await pollUntil(what, cond, 8_000, 20)
}

/** Resolves on the next heartbeat of every host: time for in-flight duplicates to land. */
async function nextHeartbeats (hosts: GossipHost[]): Promise<void> {
  await Promise.all(hosts.map(async h => await new Promise<void>(resolve => {
    h.pubsub.addEventListener('gossipsub:heartbeat', () => { resolve() }, { once: true })
  })))
}

function bytes (...values: number[]): Uint8Array {
  return Uint8Array.from(values)
}

describe('net (real libp2p, in-process)', () => {
  const hosts: GossipHost[] = []
  const extra: Host[] = []
  const gossips: Gossip[] = []
  const received: Array<Array<{ data: Uint8Array, from: string }>> = []
  const rejected: number[] = []
  const rr: RequestResponse[] = []

  beforeAll(async () => {
    // Each host lists every earlier host: the config a validator set would ship.
    for (let i = 0; i < N; i++) {
      hosts.push(await createHost({
        privateKeySeed: seedOf(i),
        peers: hosts.flatMap(h => h.multiaddrs()),
        allowedPeers: allowed,
        scoredTopics: [TOPIC],
        redial: { minDelayMs: 50, maxDelayMs: 500 },
        gossip: true
      }))
    }
    for (let i = 0; i < N; i++) {
      const gossip = new Gossip(hosts[i]!.node)
      received.push([])
      rejected.push(0)
      gossip.subscribe(TOPIC, (data) => {
        if (data[0] === 0xff) {
          rejected[i]!++
          return 'reject'
        }
        return 'accept'
      }, (data, from) => { received[i]!.push({ data, from }) })
      gossips.push(gossip)
      rr.push(new RequestResponse(hosts[i]!.node))
    }
  })

  afterEach(async () => {
    await Promise.allSettled(extra.splice(0).map(async h => { await h.stop() }))
  })

  afterAll(async () => {
    await Promise.allSettled(hosts.map(async h => { await h.stop() }))
  })

  it('uses the validator key as the libp2p identity', () => {
    hosts.forEach((h, i) => { expect(h.peerId).toBe(peerIdFromEd25519PublicKey(validatorPub(i))) })
    expect(() => peerIdFromEd25519PublicKey(new Uint8Array(33))).toThrow(TypeError)
  })

  it('forms a full mesh from bootstrap addresses', async () => {
    await waitFor('full mesh', () => hosts.every(h => h.connectedPeers().length === N - 1))
  })

  it('delivers a published message to every other peer exactly once', async () => {
    await Promise.all(gossips.map(async g => { await g.waitForTopicPeers(TOPIC, N - 1, AbortSignal.timeout(8_000)) }))
    const msgs = Array.from({ length: 10 }, (_, k) => bytes(1, k))
    for (const m of msgs) expect(await gossips[0]!.publish(TOPIC, m)).toBe(N - 1)

    await waitFor('delivery', () => received.slice(1).every(r => r.length >= msgs.length))
    await nextHeartbeats(hosts)
    await nextHeartbeats(hosts)
    expect(received[0]).toEqual([]) // emitSelf is off
    // Each peer had the messages from their publisher alone: nobody keeps a mesh to forward them on.
    const meshOf = (h: GossipHost): string[] => (h.pubsub as unknown as { getMeshPeers: (topic: string) => string[] }).getMeshPeers(TOPIC)
    for (const h of hosts) expect(meshOf(h)).toEqual([])
    for (let i = 1; i < N; i++) {
      const got = received[i]!.map(r => Array.from(r.data)).sort((a, b) => a[1]! - b[1]!)
      expect(got).toEqual(msgs.map(m => Array.from(m)))
      for (const r of received[i]!) expect(allowed.has(r.from)).toBe(true)
    }
  })

  it('does not deliver a message the validator rejects, and penalises its sender', async () => {
    received.forEach(r => r.splice(0))
    const before = [...rejected]
    await gossips[1]!.publish(TOPIC, bytes(0xff, 1))
    await gossips[1]!.publish(TOPIC, bytes(0xff, 2))
    await gossips[1]!.publish(TOPIC, bytes(2, 0))

    const others = [0, 2, 3]
    await waitFor('good message', () => others.every(i => received[i]!.length === 1))
    await waitFor('rejections', () => others.every(i => rejected[i]! - before[i]! === 2))
    await nextHeartbeats(hosts)
    for (const i of others) expect(received[i]!.map(r => r.data[0])).toEqual([2])

    const scoreOf = (h: GossipHost, peer: string): number => (h.pubsub as unknown as { getScore: (p: string) => number }).getScore(peer)
    await waitFor('negative score', () => scoreOf(hosts[0]!, hosts[1]!.peerId) < 0)
  })

  it('relays only accepted messages: a peer behind the rejecting one never sees a rejected one', async () => {
    // A line x - y - z with its own closed mesh: z can only hear x through y.
    const seeds = [0x31, 0x32, 0x33].map(b => new Uint8Array(32).fill(b))
    const line = new Set(seeds.map(s => peerIdFromEd25519PublicKey(ed25519.getPublicKey(s))))
    const y = await createHost({ privateKeySeed: seeds[1]!, allowedPeers: line, scoredTopics: [TOPIC], gossip: true })
    extra.push(y)
    const x = await createHost({ privateKeySeed: seeds[0]!, allowedPeers: line, peers: y.multiaddrs(), scoredTopics: [TOPIC], gossip: true })
    extra.push(x)
    const z = await createHost({ privateKeySeed: seeds[2]!, allowedPeers: line, peers: y.multiaddrs(), scoredTopics: [TOPIC], gossip: true })
    extra.push(z)

    const seenBy = { y: [] as number[], z: [] as number[] }
    const validate = (log: number[]) => (data: Uint8Array): 'accept' | 'reject' => {
      log.push(data[0]!)
      return data[0] === 0xff ? 'reject' : 'accept'
    }
    const gx = new Gossip(x.node)
    const gy = new Gossip(y.node)
    const gz = new Gossip(z.node)
    const atZ: number[] = []
    gx.subscribe(TOPIC, () => 'accept', () => {})
    gy.subscribe(TOPIC, validate(seenBy.y), () => {})
    gz.subscribe(TOPIC, validate(seenBy.z), (data) => { atZ.push(data[0]!) })
    await gx.waitForTopicPeers(TOPIC, 1, AbortSignal.timeout(8_000))
    await gy.waitForTopicPeers(TOPIC, 2, AbortSignal.timeout(8_000))

    expect(await gx.publish(TOPIC, bytes(0xff, 3))).toBe(1)
    expect(await gx.publish(TOPIC, bytes(3, 3))).toBe(1)
    // The good message reaches z through y (y tells z its id on a heartbeat, z asks for it) ...
    await waitFor('relayed message at z', () => atZ.length === 1)
    await nextHeartbeats([x, y, z])
    // ... while the bad one stopped at y.
    expect(seenBy.y).toEqual([0xff, 3])
    expect(seenBy.z).toEqual([3])
    expect(atZ).toEqual([3])
    expect(z.connectedPeers()).toEqual([y.peerId])
  }, 20_000)

  it('publishes to nobody without throwing, and the same bytes again once a peer subscribes', async () => {
    const topic = 'trustnet/test/late/1'
    const publisher = new Gossip(hosts[2]!.node)
    expect(await publisher.publish(topic, bytes(9))).toBe(0)

    const got: Uint8Array[] = []
    const subscriber = new Gossip(hosts[3]!.node)
    subscriber.subscribe(topic, () => 'accept', (data) => { got.push(data) })
    try {
      await publisher.waitForTopicPeers(topic, 1, AbortSignal.timeout(8_000))
      expect(await publisher.publish(topic, bytes(9))).toBe(1)
      await waitFor('late delivery', () => got.length === 1)
    } finally {
      subscriber.close()
    }
  })

  it('bounds the publish queue and aborts a wait for peers with typed errors', async () => {
    const small = new Gossip(hosts[2]!.node, { maxQueuedBytes: 8 })
    await expect(small.publish(TOPIC, new Uint8Array(9)))
      .rejects.toMatchObject({ name: 'PublishQueueFullError', code: 'ERR_PUBLISH_QUEUE_FULL' })
    await expect(small.waitForTopicPeers(TOPIC, 99, AbortSignal.timeout(100)))
      .rejects.toMatchObject({ name: 'AbortedError', code: 'ERR_ABORTED' })
  })

  it('round-trips a request by peer id and by multiaddr', async () => {
    await rr[0]!.handle(ECHO, async (req, from) => {
      expect(from).toBe(hosts[1]!.peerId)
      return Uint8Array.from([...req, 42])
    }, { maxRequestBytes: 1024 })
    expect(Array.from(await rr[1]!.request(hosts[0]!.peerId, ECHO, bytes(1, 2, 3)))).toEqual([1, 2, 3, 42])
    const addr = hosts[0]!.multiaddrs()[0]!
    expect(Array.from(await rr[1]!.request(addr, ECHO, new Uint8Array(1024)))).toHaveLength(1025)
    expect(Array.from(await rr[1]!.request(multiaddr(addr), ECHO, new Uint8Array(0)))).toEqual([42])
  })

  it('answers more requests at once than a peer takes streams of one protocol: the rest wait their turn, within their deadline', async () => {
    const GATED = '/trustnet/test/gated/1.0.0'
    let inHandler = 0
    let mostInHandler = 0
    let open: () => void = () => {}
    const gate = new Promise<void>(resolve => { open = resolve })
    // libp2p's default: 32 streams of a protocol at once per connection; more are reset.
    await rr[0]!.handle(GATED, async req => {
      inHandler++
      mostInHandler = Math.max(mostInHandler, inHandler)
      await gate
      inHandler--
      return req
    })
    const answers = Promise.all(Array.from({ length: 100 }, async (_, i) => await rr[1]!.request(hosts[0]!.peerId, GATED, bytes(i))))
    await waitFor('a full set of requests in the handler', () => inHandler === 32)
    // A request waiting for its turn is still bound by its deadline.
    await expect(rr[1]!.request(hosts[0]!.peerId, GATED, bytes(200), { timeoutMs: 200 }))
      .rejects.toMatchObject({ name: 'RequestTimeoutError', code: 'ERR_REQUEST_TIMEOUT' })
    open()
    expect((await answers).map(a => a[0])).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(mostInHandler).toBe(32)
  })

  it('refuses an oversized request and an oversized response with typed errors', async () => {
    await expect(rr[1]!.request(hosts[0]!.peerId, ECHO, new Uint8Array(1025)))
      .rejects.toMatchObject({ name: 'RequestTooLargeError', code: 'ERR_REQUEST_TOO_LARGE' })
    await expect(rr[1]!.request(hosts[0]!.peerId, ECHO, new Uint8Array(600 * 1024)))
      .rejects.toMatchObject({ name: 'RequestTooLargeError' })
    await expect(rr[1]!.request(hosts[0]!.peerId, ECHO, new Uint8Array(10), { maxResponseBytes: 4 }))
      .rejects.toMatchObject({ name: 'ResponseTooLargeError', code: 'ERR_RESPONSE_TOO_LARGE' })
    // The connection survives refusals.
    expect(Array.from(await rr[1]!.request(hosts[0]!.peerId, ECHO, bytes(7)))).toEqual([7, 42])
  })

  it('carries a multi-megabyte answer intact over the write-coalescing socket', async () => {
    const BIG = '/trustnet/test/big/1.0.0'
    const answer = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251)
    await rr[0]!.handle(BIG, async () => answer, { maxRequestBytes: 16 })
    const got = await Promise.all([1, 2].map(async () => await rr[1]!.request(hosts[0]!.peerId, BIG, bytes(1), { timeoutMs: 20_000 })))
    for (const g of got) {
      expect(g.length).toBe(answer.length)
      expect(Buffer.compare(Buffer.from(g), Buffer.from(answer))).toBe(0)
    }
  })

  it('fails with typed errors for unknown peers, unknown protocols, slow and failing handlers', async () => {
    const stranger = peerIdFromEd25519PublicKey(ed25519.getPublicKey(new Uint8Array(32).fill(0x77)))
    await expect(rr[1]!.request(stranger, ECHO, bytes(1), { timeoutMs: 2_000 }))
      .rejects.toMatchObject({ name: 'PeerUnreachableError', code: 'ERR_PEER_UNREACHABLE' })
    await expect(rr[1]!.request(hosts[0]!.peerId, '/trustnet/test/none/1.0.0', bytes(1)))
      .rejects.toMatchObject({ name: 'ProtocolError', code: 'ERR_PROTOCOL' })

    const SLOW = '/trustnet/test/slow/1.0.0'
    await rr[2]!.handle(SLOW, async (_req, _from, { signal }) => {
      await new Promise(resolve => { signal.addEventListener('abort', resolve) })
      return new Uint8Array(0)
    }, { timeoutMs: 1_500 })
    await expect(rr[1]!.request(hosts[2]!.peerId, SLOW, bytes(1), { timeoutMs: 300 }))
      .rejects.toMatchObject({ name: 'RequestTimeoutError', code: 'ERR_REQUEST_TIMEOUT' })
    const controller = new AbortController()
    const pending = rr[1]!.request(hosts[2]!.peerId, SLOW, bytes(1), { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortedError', code: 'ERR_ABORTED' })

    const FAIL = '/trustnet/test/fail/1.0.0'
    await rr[3]!.handle(FAIL, async () => { throw new Error('boom') })
    await expect(rr[1]!.request(hosts[3]!.peerId, FAIL, bytes(1)))
      .rejects.toMatchObject({ name: 'RemoteHandlerError', code: 'ERR_REMOTE_HANDLER' })
  })

  it('builds a host without gossip, identify or ping unless asked, which still sends requests to a validator', async () => {
    const validator = await createHost({ privateKeySeed: new Uint8Array(32).fill(0x41), gossip: true })
    extra.push(validator)
    const client = await createHost({ privateKeySeed: new Uint8Array(32).fill(0x42), peers: validator.multiaddrs() })
    extra.push(client)
    const gossipProtocols = (h: Host): string[] => h.node.getProtocols().filter(p => /\/(id|ping|meshsub|floodsub)\//.test(p)).sort()
    expect(gossipProtocols(validator)).toEqual(['/floodsub/1.0.0', '/ipfs/id/1.0.0', '/ipfs/ping/1.0.0', '/meshsub/1.0.0', '/meshsub/1.1.0', '/meshsub/1.2.0'])
    expect(gossipProtocols(client)).toEqual([])
    expect(Object.keys(client.node.services)).toEqual([])
    expect('pubsub' in client).toBe(false)

    const PING = '/trustnet/test/plain/1.0.0'
    await new RequestResponse(validator.node).handle(PING, async req => Uint8Array.from([...req, 1]))
    expect(Array.from(await new RequestResponse(client.node).request(validator.peerId, PING, bytes(5)))).toEqual([5, 1])
  })

  it('refuses connections from and to a peer outside allowedPeers', async () => {
    const connects: string[] = []
    const onConnect = (evt: CustomEvent<{ toString: () => string }>): void => { connects.push(evt.detail.toString()) }
    hosts[0]!.node.addEventListener('peer:connect', onConnect)
    try {
      // It also keeps re-dialling host 0 in the background, which must not get it in either.
      const outsider = await createHost({
        privateKeySeed: new Uint8Array(32).fill(0x99),
        peers: [hosts[0]!.multiaddrs()[0]!],
        redial: { minDelayMs: 50, maxDelayMs: 500 }
      })
      extra.push(outsider)
      const outsiderRr = new RequestResponse(outsider.node)
      await expect(outsiderRr.request(hosts[0]!.multiaddrs()[0]!, ECHO, bytes(1)))
        .rejects.toMatchObject({ name: 'PeerUnreachableError' })
      await expect(rr[0]!.request(outsider.multiaddrs()[0]!, ECHO, bytes(1)))
        .rejects.toMatchObject({ name: 'PeerUnreachableError' })
      await expect(rr[0]!.request(outsider.peerId, ECHO, bytes(1)))
        .rejects.toMatchObject({ name: 'PeerUnreachableError' })
      // Noise negotiates the muxer in-handshake, so the dialler may briefly see an open
      // connection before the gate closes it: what matters is that it does not last.
      await waitFor('outsider dropped', () => outsider.connectedPeers().length === 0)
      expect(connects).not.toContain(outsider.peerId)
      expect(hosts[0]!.connectedPeers()).not.toContain(outsider.peerId)
    } finally {
      hosts[0]!.node.removeEventListener('peer:connect', onConnect)
    }
  })

  it('closes a socket that says nothing when its handshake times out, and refuses an allowed peer\'s connections beyond its limit', async () => {
    // Keys of their own: the mesh's hosts keep dialling each other's peer ids.
    const pair = new Set([peerIdFromEd25519PublicKey(validatorPub(10)), peerIdFromEd25519PublicKey(validatorPub(11))])
    const limits = { inboundUpgradeTimeoutMs: 1_000, maxConnectionsPerPeer: 2 }
    const server = await createHost({ privateKeySeed: seedOf(10), allowedPeers: pair, limits })
    const peer = await createHost({ privateKeySeed: seedOf(11), allowedPeers: pair })
    extra.push(server, peer)
    const addr = multiaddr(server.multiaddrs()[0]!)
    const [, , host, , port] = server.multiaddrs()[0]!.split('/')
    const opened = Date.now()
    const lifetime = await new Promise<number>(resolve => {
      const socket = connect({ host: host!, port: Number(port) })
      // Reset by the host (ECONNRESET): what matters is when.
      socket.on('error', () => {})
      socket.on('close', () => { resolve(Date.now() - opened) })
    })
    expect(lifetime).toBeGreaterThanOrEqual(900)
    expect(lifetime).toBeLessThan(3_000)

    // `force` opens a new connection even to a connected peer.
    for (let i = 0; i < 2; i++) await peer.node.dial(addr, { force: true })
    await waitFor('two connections', () => server.node.getConnections(peer.node.peerId).length === 2)
    await peer.node.dial(addr, { force: true }).catch(() => {})
    await waitFor('the third to be gone', () => peer.node.getConnections(server.node.peerId).filter(c => c.status === 'open').length === 2)
    expect(server.node.getConnections(peer.node.peerId)).toHaveLength(2)
  })

  it('re-dials a configured peer after the connection drops', async () => {
    await hosts[0]!.node.hangUp(peerIdFromString(hosts[3]!.peerId))
    await waitFor('reconnect', () => hosts[3]!.connectedPeers().includes(hosts[0]!.peerId))
  })
})

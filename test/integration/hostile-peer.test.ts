/**
 * Four validators in one process, attacked from outside as a peer on the same network would: a
 * real libp2p peer with a key of its own cannot open any protocol (its connection is cut right
 * after the Noise handshake); a flood of silent sockets and of strangers' dials neither stops a
 * registered service's submissions from committing nor keeps a restarted validator from
 * rejoining; and an admitted peer (a registered service's key) sending garbage, oversized,
 * replayed and mis-signed requests is refused with a code while nothing changes.
 */
import '../../lib/promise-shim.js'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode } from '../../consensus/codec.js'
import { signSubmission } from '../../consensus/entries.js'
import type { Submission } from '../../consensus/types.js'
import { waitFor } from '../../lib/wait-for.js'
import { PeerUnreachableError, RequestTooLargeError } from '../../net/errors.js'
import { createHost, DEFAULT_LIMITS, type Host } from '../../net/host.js'
import { RequestResponse } from '../../net/request-response.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { PROTOCOL, RemoteRefusalError, SubmitResponseSchema, SyncResponseSchema, decodeResponse } from '../../protocol/node-api.js'
import { makeEntries, makeNetwork, makeSubmission } from '../helpers/fixtures.js'
import { startCluster, type NodeCluster } from '../helpers/node-cluster.js'

const net = makeNetwork(4, { chainId: 'hostile-test', services: 2 })
const freshSeed = (): Uint8Array => new Uint8Array(randomBytes(32))
/** Strangers' sockets come from another loopback address than the validators' (127.0.0.1), as from another host. */
const STRANGER_IP = '127.0.0.2'

/** host and port of a multiaddr /ip4/<host>/tcp/<port>/... */
function tcpOf (addr: string): { host: string, port: number } {
  const [, , host, , port] = addr.split('/')
  return { host: host!, port: Number(port) }
}

describe('a closed mesh under attack', () => {
  let cluster: NodeCluster
  let service: Host
  let rr: RequestResponse
  const strangers: Host[] = []

  beforeAll(async () => {
    cluster = await startCluster(net)
    service = await createHost({ privateKeySeed: net.serviceSeeds[0]!, peers: cluster.nodes.map(n => n.p2p[0]!) })
    rr = new RequestResponse(service.node)
  })

  afterAll(async () => {
    await Promise.allSettled([service, ...strangers].map(async h => { await h?.stop() }))
    await cluster?.stop()
  })

  const nodes = (): RunningNode[] => cluster.nodes
  const ask = async (node: RunningNode, protocol: string, body: Uint8Array): Promise<Uint8Array> =>
    await rr.request(node.peerId, protocol, body, { timeoutMs: 10_000 })
  const refusalOf = async (node: RunningNode, protocol: string, body: Uint8Array): Promise<string> => {
    try {
      decodeResponse(protocol === PROTOCOL.sync ? SyncResponseSchema : SubmitResponseSchema, await ask(node, protocol, body))
    } catch (err) {
      if (err instanceof RemoteRefusalError) return err.code
      throw err
    }
    throw new Error('the request was answered')
  }
  /** As a service does: to every validator running (`on`); resolves once each of them holds the entries on chain. */
  const commitEverywhere = async (entries: Uint8Array[], timeoutMs = 20_000, on = nodes()): Promise<void> => {
    const submission = makeSubmission(net, entries)
    await Promise.all(on.map(async n => await ask(n, PROTOCOL.submit, encode({ submission })).catch(() => undefined)))
    for (const n of on) expect(await n.driver.waitForEntries(entries, timeoutMs)).toBe(true)
  }
  const heights = (): number[] => nodes().map(n => n.driver.status().tip.height)

  it('a peer with a key of its own opens no protocol: its connection is cut right after the handshake', async () => {
    const stranger = await createHost({ privateKeySeed: freshSeed() })
    strangers.push(stranger)
    const srr = new RequestResponse(stranger.node)
    const target = nodes()[0]!.p2p[0]!
    const requests: Array<[string, Uint8Array]> = [
      [PROTOCOL.submit, encode({ submission: makeSubmission(net, makeEntries(1, 9_000)) })],
      [PROTOCOL.certificate, encode({ entries: new Uint8Array(32), waitMs: 0 })],
      [PROTOCOL.verify, encode({ entry: new Uint8Array(32), height: 1, index: 0 })],
      [PROTOCOL.sync, encode({ fromHeight: 1, max: 50 })]
    ]
    const lifetimes: number[] = []
    for (const [protocol, body] of requests) {
      const started = Date.now()
      const failure = await srr.request(target, protocol, body, { timeoutMs: 10_000 }).catch((err: unknown) => err)
      lifetimes.push(Date.now() - started)
      expect(failure, protocol).toBeInstanceOf(PeerUnreachableError)
    }
    // Dial, Noise, then hung up on (PeerUnreachableError, not the request's own 10 s timeout).
    console.info(`stranger's connection refused after ${lifetimes.join(', ')} ms`)
    expect(Math.max(...lifetimes)).toBeLessThan(8_000)
    // Noise settles the muxer within its handshake, so the stranger may see its side open for a moment.
    await waitFor('the stranger to be cut off', () => stranger.connectedPeers().length === 0, 5_000, 20)
  })

  it('a flood of silent sockets and strangers\' dials stops neither the service\'s submissions nor a restarted validator', async () => {
    await commitEverywhere(makeEntries(2, 10_000))
    const flooding = new AbortController()
    const sockets = new Set<Socket>()
    const silentLifetimes: number[] = []
    let refusedDials = 0
    // 50 silent sockets per validator, each reopened as soon as the validator closes it.
    const silent = (addr: { host: string, port: number }): void => {
      if (flooding.signal.aborted) return
      const opened = Date.now()
      const socket = connect({ ...addr, localAddress: STRANGER_IP })
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        sockets.delete(socket)
        if (!flooding.signal.aborted) silentLifetimes.push(Date.now() - opened)
        setTimeout(() => { silent(addr) }, 10)
      })
    }
    const addrs = nodes().map(n => tcpOf(n.p2p[0]!))
    for (const addr of addrs) for (let i = 0; i < 50; i++) silent(addr)
    // 20 strangers with fresh keys dialling the validators over and over.
    const dialers = await Promise.all(Array.from({ length: 20 }, async () => await createHost({ privateKeySeed: freshSeed() })))
    strangers.push(...dialers)
    const dialing = dialers.map(async (d, k) => {
      const srr = new RequestResponse(d.node)
      for (let i = 0; !flooding.signal.aborted; i++) {
        await srr.request(nodes()[(k + i) % 4]!.p2p[0]!, PROTOCOL.submit, Uint8Array.of(0), { timeoutMs: 3_000, signal: flooding.signal }).catch(() => { refusedDials++ })
      }
    })
    try {
      await waitFor('silent sockets to be cut', () => silentLifetimes.length >= 50, 15_000)
      await commitEverywhere(makeEntries(3, 11_000))

      // A validator restarted in the middle of the flood dials back in and commits again.
      const home = join(cluster.dir, 'node-3')
      await cluster.nodes[3]!.stop()
      await commitEverywhere(makeEntries(1, 11_500), 20_000, nodes().slice(0, 3))
      cluster.nodes[3] = await startNode(home)
      const restartedAt = Date.now()
      await commitEverywhere(makeEntries(3, 12_000), 25_000)
      console.info(`restarted validator committed again ${Date.now() - restartedAt} ms after start, heights ${heights().join(' ')}`)
    } finally {
      flooding.abort()
      for (const s of sockets) s.destroy()
      await Promise.allSettled(dialing)
    }
    silentLifetimes.sort((a, b) => a - b)
    const median = silentLifetimes[Math.floor(silentLifetimes.length / 2)]!
    const p95 = silentLifetimes[Math.floor(silentLifetimes.length * 0.95)]!
    console.info(`silent sockets: ${silentLifetimes.length} cut, life median ${median} ms, p95 ${p95} ms, max ${silentLifetimes.at(-1)!} ms; strangers' requests refused: ${refusedDials}`)
    // Refused at once past the pending cap or the per-IP rate, or cut by the handshake timeout
    // (later only while a validator restarts and its event loop is busy).
    expect(median).toBeLessThan(DEFAULT_LIMITS.inboundUpgradeTimeoutMs)
    expect(p95).toBeLessThan(DEFAULT_LIMITS.inboundUpgradeTimeoutMs + 1_500)
    expect(refusedDials).toBeGreaterThan(20)
  })

  it('an admitted peer\'s garbage, oversized, replayed and mis-signed requests are refused with a code, and nothing changes', async () => {
    const entries = makeEntries(4, 13_000)
    const holdings = async (): Promise<unknown> => await Promise.all(nodes().map(async n => ({ mempool: n.driver.mempoolSize, any: await n.driver.waitForEntries(entries.slice(0, 1), 0) })))
    const before = await holdings()
    const node = nodes()[1]!
    const submit = (submission: Submission): Uint8Array => encode({ submission })
    const good = makeSubmission(net, entries)

    expect(await refusalOf(node, PROTOCOL.submit, new Uint8Array(randomBytes(200)))).toBe('MALFORMED')
    const oversized = await ask(node, PROTOCOL.submit, new Uint8Array(200 * 1024)).catch((err: unknown) => err)
    expect(oversized).toBeInstanceOf(RequestTooLargeError)
    expect((oversized as InstanceType<typeof RequestTooLargeError>).code).toBe('ERR_REQUEST_TOO_LARGE')
    // Signed by the service, for another chain.
    expect(await refusalOf(node, PROTOCOL.submit, submit({ ...good, signature: signSubmission('another-chain', 0, good.entries, net.serviceSeeds[0]!).signature }))).toBe('BAD_SIGNATURE')
    // Mis-signed: one bit of the signature flipped.
    const flipped = new Uint8Array(good.signature)
    flipped[0]! ^= 1
    expect(await refusalOf(node, PROTOCOL.submit, submit({ ...good, signature: flipped }))).toBe('BAD_SIGNATURE')
    // Service 1's own submission, sent by service 0's peer.
    expect(await refusalOf(node, PROTOCOL.submit, submit(makeSubmission(net, entries, 1)))).toBe('WRONG_SERVICE')
    // Old heights replayed through sync: validators only.
    expect(await refusalOf(node, PROTOCOL.sync, encode({ fromHeight: 1, max: 50 }))).toBe('FORBIDDEN')

    expect(await holdings()).toEqual(before)
    // And the network keeps committing.
    const from = Math.min(...heights())
    await commitEverywhere(makeEntries(2, 14_000))
    expect(Math.min(...heights())).toBeGreaterThan(from)
  })
})

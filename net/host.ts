/**
 * Builds a libp2p host: TCP + Noise + Yamux, with an ed25519 key as its libp2p identity (for a
 * validator, its validator key, so a peer id names a validator), and with `gossip` also
 * gossipsub and the identify and ping services it relies on (validators; the service only
 * sends requests, and answers the validators' pings as an unsupported protocol, which the
 * connection monitor counts as alive). The host
 * keeps dialling its configured peers for as long as it runs, and with `allowedPeers` it refuses
 * every connection from or to anyone else (closed validator mesh; see gater for what is refused
 * where). Inbound handshakes must finish quickly and peers hold few connections each, so silent
 * sockets and one peer's many dials cannot crowd out the others (ConnectionLimits). Gossipsub is
 * set up for our trust model: messages are unsigned at the libp2p level (they carry validator signatures
 * checked in topic validators) and identified by the SHA-256 of their data. Validators dial each
 * other directly, so a publish reaches every peer without a relay and there is no forwarding mesh
 * (see gossipOptions).
 */

import '../lib/promise-shim.js'
import { hash } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { gossipsub, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub'
import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
import { identify, type Identify } from '@libp2p/identify'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { CODE_P2P, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { libp2pLogger } from './quiet-logger.js'
import { coalescingWrites } from './write-coalescing.js'
import type { ConnectionGater, PeerId } from '@libp2p/interface'

// A type alias, not an interface: libp2p's ServiceMap needs an implicit index signature.
export type GossipServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
}

/** A host's libp2p node with gossip (what Gossip needs). */
export type Libp2pNode = Libp2p<GossipServices>

export interface RedialOptions {
  /** First wait after a failed dial. @default 250 */
  minDelayMs?: number
  /** Cap of the exponential backoff. @default 10_000 */
  maxDelayMs?: number
}

export interface HostInit {
  /** 32-byte ed25519 seed (RFC 8032 private key): the validator key is the libp2p identity. */
  privateKeySeed: Uint8Array
  /** @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: string[]
  /** Multiaddrs to dial at start and to re-dial whenever the connection drops. */
  peers?: string[]
  /** When given, only these peer ids may connect to us or be dialled (closed mesh). */
  allowedPeers?: Set<string>
  /** Topics whose invalid messages lower the sender's peer score. */
  scoredTopics?: string[]
  redial?: RedialOptions
  /** Run gossipsub, with identify (how it learns which peers speak it) and ping. @default false */
  gossip?: boolean
  limits?: Partial<ConnectionLimits>
}

/** What one inbound peer or socket may hold of a host. */
export interface ConnectionLimits {
  /**
   * Time an inbound socket has to finish Noise and Yamux; a socket that says nothing is closed
   * then, and gives its pending slot back. A handshake takes milliseconds, but the first ones of a
   * process starting beside others took over 300 ms here: room for a saturated CPU.
   * @default 3_000
   */
  inboundUpgradeTimeoutMs: number
  /** Inbound sockets still in their handshake, together; more are closed at once. @default 64 */
  maxIncomingPendingConnections: number
  /**
   * Open connections of one peer past which its inbound ones are refused: two peers dialling each
   * other at once hold two, and a redial may overlap one closing (a limit of 2 slowed a starting
   * cluster's first commit from 3 s to 22 s). @default 4
   */
  maxConnectionsPerPeer: number
  /**
   * Multiaddrs (their IP, or IP range with /ipcidr) of known peers: sockets from there bypass
   * the pending-handshake cap, the per-IP rate of new connections and maxConnections, so
   * strangers elsewhere cannot starve them. Their peer must still be in `allowedPeers`.
   * @default []
   */
  allow: string[]
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  inboundUpgradeTimeoutMs: 3_000,
  maxIncomingPendingConnections: 64,
  maxConnectionsPerPeer: 4,
  allow: []
}

/** Test-time fault injection: cut links to some peers (both ways) and heal them again. */
export interface LinkControl {
  /** Refuse and hang up connections to these peers; an empty list heals every link. */
  setBlocked (peerIds: string[]): Promise<void>
  blocked (): string[]
}

export interface Host {
  readonly node: Libp2p
  readonly peerId: string
  /** Listening addresses, each ending in /p2p/<peerId>. */
  multiaddrs(): string[]
  connectedPeers(): string[]
  readonly links: LinkControl
  stop(): Promise<void>
}

/** A host created with `gossip: true`. */
export interface GossipHost extends Host {
  readonly node: Libp2pNode
  readonly pubsub: GossipSub
}

const ED25519_KEY_BYTES = 32
const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** Peer id string of a raw 32-byte ed25519 public key (maps a validator key to its peer). */
export function peerIdFromEd25519PublicKey (pub: Uint8Array): string {
  // publicKeyFromRaw picks the key type by length, so pin the length to ed25519's.
  if (pub.byteLength !== ED25519_KEY_BYTES) {
    throw new TypeError(`ed25519 public key must be ${ED25519_KEY_BYTES} bytes, got ${pub.byteLength}`)
  }
  return peerIdFromPublicKey(publicKeyFromRaw(pub)).toString()
}

/** Creates and starts a host, then begins dialling `init.peers`. */
export async function createHost (init: HostInit & { gossip: true }): Promise<GossipHost>
export async function createHost (init: HostInit): Promise<Host>
export async function createHost (init: HostInit): Promise<Host | GossipHost> {
  if (init.privateKeySeed.byteLength !== ED25519_KEY_BYTES) {
    throw new TypeError(`ed25519 seed must be ${ED25519_KEY_BYTES} bytes`)
  }
  // Parsed before the node exists, so a bad address cannot leak a started node.
  const peers = (init.peers ?? []).map(a => multiaddr(a))
  const privateKey = await generateKeyPairFromSeed('Ed25519', init.privateKeySeed)
  const blocked = new Set<string>()
  const limits = { ...DEFAULT_LIMITS, ...init.limits }
  // The gater counts a peer's connections on the node it guards, created just below.
  const created: { node?: Libp2p } = {}

  const logger = libp2pLogger()
  const node = await createLibp2p<Partial<GossipServices>>({
    privateKey,
    ...(logger !== undefined ? { logger } : {}),
    addresses: { listen: init.listen ?? DEFAULT_LISTEN },
    transports: [tcp()],
    connectionEncrypters: [coalescingWrites(noise())],
    streamMuxers: [yamux()],
    // A saturated CPU delays pongs; aborting on a late ping dropped whole meshes mid-run.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionManager: {
      inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs,
      maxIncomingPendingConnections: limits.maxIncomingPendingConnections,
      allow: limits.allow
    },
    connectionGater: gater(init.allowedPeers, blocked, limits.maxConnectionsPerPeer, peer => created.node?.getConnections(peer).filter(c => c.status === 'open').length ?? 0),
    services: init.gossip === true
      ? { identify: identify(), ping: ping(), pubsub: gossipsub(gossipOptions(init.scoredTopics ?? [])) }
      : {}
  })
  created.node = node

  const redialer = new Redialer(node, peers, init.redial ?? {})
  redialer.start()

  const host: Host = {
    node,
    peerId: node.peerId.toString(),
    multiaddrs: () => node.getMultiaddrs().map(ma => ma.toString()),
    connectedPeers: () => node.getPeers().map(p => p.toString()),
    links: {
      blocked: () => [...blocked],
      async setBlocked (peerIds) {
        blocked.clear()
        for (const p of peerIds) blocked.add(p)
        await Promise.all(node.getConnections().filter(c => blocked.has(c.remotePeer.toString())).map(async c => await c.close().catch(() => c.abort(new Error('link cut')))))
        redialer.kick()
      }
    },
    stop: async () => {
      redialer.stop()
      await node.stop()
    }
  }
  const pubsub = node.services.pubsub
  return pubsub === undefined ? host : { ...host, node: node as Libp2pNode, pubsub }
}

function gossipOptions (scoredTopics: string[]): Partial<GossipsubOpts> {
  const topics: Record<string, TopicScoreParams> = {}
  for (const topic of scoredTopics) topics[topic] = topicScoreParams()
  return {
    // Our payloads carry validator signatures; libp2p signing would only add ~3x CPU.
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: (msg) => hash('sha256', msg.data, 'buffer'),
    // Same hash on the raw RPC lets duplicates be dropped before decoding. A cryptographic
    // hash, so a peer cannot pre-empt a real message with a colliding one.
    fastMsgIdFn: (msg) => hash('sha256', msg.data ?? new Uint8Array(0), 'base64'),
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    // No forwarding mesh. Validators dial each other, and a publish goes to every subscribed peer
    // (floodPublish), so mesh forwarding only sent each peer n-2 more copies of every message:
    // two thirds of what 4 validators received were duplicates, each decrypted, framed and
    // hashed before being dropped (about a tenth of a validator's CPU). A peer that misses a
    // message (a link down, a drop) learns its id from the others' IHAVE gossip every heartbeat
    // and fetches it with IWANT; validators also re-send their own messages every
    // rebroadcastMs.
    D: 0,
    Dlo: 0,
    Dhi: 0,
    Dout: 0,
    Dscore: 0,
    scoreParams: {
      topics,
      // Messages count by the validator signatures they carry, not by where they come from, and
      // many validators may share one IP (one machine). Gossipsub keeps a disconnected peer's IP
      // counted for an hour: a few clients that came and went put validators on 127.0.0.1 over
      // its colocation threshold, and their gossip was graylisted until consensus stalled.
      IPColocationFactorWeight: 0
    }
  }
}

function topicScoreParams (): TopicScoreParams {
  return createTopicScoreParams({
    topicWeight: 1,
    // Consensus topics are often quiet: delivery-rate penalties would graylist honest peers.
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    timeInMeshQuantum: 1000,
    // Invalid messages cost 10 * n^2, forgiven over ~20 s (decay per 1 s interval).
    invalidMessageDeliveriesWeight: -10,
    invalidMessageDeliveriesDecay: 0.9
  })
}

/**
 * What is refused where, in the order libp2p 3 asks (upgrader.ts):
 * - a raw inbound socket, before any byte: only its IP is known, so only the connection
 *   manager's limits apply there (pending handshakes, new sockets per IP per second, `allow`);
 *   its peer id is unknown until Noise is done.
 * - denyInboundEncryptedConnection, right after the Noise handshake (the initiator proves its
 *   key in the third message) and before the muxer: a peer not allowed, cut, or already holding
 *   maxConnectionsPerPeer connections is hung up on. It never opens a stream.
 * - outbound: denyDialPeer before dialling a known peer id, denyOutboundEncryptedConnection
 *   after Noise for addresses without /p2p.
 * Handshakes in progress are not counted per peer: a peer racing many dials at once can hold
 * more connections for a moment; the allowed peers are the genesis's own.
 */
function gater (allowed: Set<string> | undefined, blocked: Set<string>, maxPerPeer: number, connectionsOf: (peer: PeerId) => number): ConnectionGater {
  const deny = (peer: PeerId): boolean => blocked.has(peer.toString()) || (allowed != null && !allowed.has(peer.toString()))
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: peer => deny(peer) || connectionsOf(peer) >= maxPerPeer,
    denyOutboundEncryptedConnection: deny
  }
}

function peerIdOf (ma: Multiaddr): string | undefined {
  return ma.getComponents().findLast(c => c.code === CODE_P2P)?.value
}

/**
 * One loop per configured address: dial, wait for the peer to disconnect, dial again, with
 * exponential backoff and jitter after failures. libp2p's own reconnect queue gives up after a
 * few retries; validators must keep trying for as long as they run.
 */
class Redialer {
  private readonly controller = new AbortController()
  private kicked = new AbortController()

  constructor (
    private readonly node: Libp2p,
    private readonly addrs: Multiaddr[],
    private readonly opts: RedialOptions
  ) {
    setMaxListeners(Infinity, this.controller.signal)
  }

  start (): void {
    const self = this.node.peerId.toString()
    for (const ma of this.addrs) {
      if (peerIdOf(ma) === self) continue
      void this.loop(ma).catch(() => {})
    }
  }

  stop (): void {
    this.controller.abort()
  }

  /** Cut short every backoff wait: links were just healed. */
  kick (): void {
    const kick = this.kicked
    this.kicked = new AbortController()
    kick.abort()
  }

  private async loop (ma: Multiaddr): Promise<void> {
    const signal = this.controller.signal
    const minDelay = this.opts.minDelayMs ?? 250
    const maxDelay = this.opts.maxDelayMs ?? 10_000
    let delay = minDelay
    const backOff = async (): Promise<void> => {
      // Ends early when stopped or kicked; either way the loop decides what comes next.
      await sleep(delay * (0.5 + Math.random()), undefined, { signal: AbortSignal.any([signal, this.kicked.signal]) }).catch(() => {})
      delay = Math.min(delay * 2, maxDelay)
    }
    let peer = peerIdOf(ma)
    while (!signal.aborted) {
      if (peer == null || !this.isConnected(peer)) {
        try {
          peer = (await this.node.dial(ma, { signal })).remotePeer.toString()
        } catch {
          await backOff()
          continue
        }
      }
      const since = Date.now()
      await this.disconnected(peer, signal)
      // A gating peer accepts the dial and drops it a moment later: only a connection that
      // lasted earns an immediate re-dial, a flapping one backs off.
      if (Date.now() - since > maxDelay) delay = minDelay
      else await backOff()
    }
  }

  private isConnected (peer: string): boolean {
    return this.node.getConnections().some(c => c.remotePeer.toString() === peer && c.status === 'open')
  }

  private async disconnected (peer: string, signal: AbortSignal): Promise<void> {
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.node.removeEventListener('peer:disconnect', onDisconnect)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const onDisconnect = (evt: CustomEvent<PeerId>): void => {
        if (evt.detail.toString() === peer) done()
      }
      this.node.addEventListener('peer:disconnect', onDisconnect)
      signal.addEventListener('abort', done)
      // The peer may have gone between the caller's check and the listener.
      if (signal.aborted || !this.isConnected(peer)) done()
    })
  }
}

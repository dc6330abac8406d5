/**
 * One validator process, wired in one place: its store, the consensus machine restored from what
 * it persisted, the libp2p host (gossip for consensus messages and submissions, request/response
 * for services and block sync), the serial driver and the operator HTTP API. The host admits the
 * genesis's validators and registered services only (a closed mesh): their peer ids are derived
 * from their registered keys.
 */
import '../lib/promise-shim.js'
import { defaultEd25519, rememberingEd25519 } from '../consensus/ed25519.js'
import { TrustnetError } from '../consensus/errors.js'
import { encode } from '../consensus/codec.js'
import { genesisHash } from '../consensus/ids.js'
import { Machine } from '../consensus/machine.js'
import { checkMessage } from '../consensus/message-checks.js'
import { decodeResponse, MAX_SYNC_BLOCKS, PROTOCOL, SyncResponseSchema } from '../protocol/node-api.js'
import { CertificateIssuer } from './certificates.js'
import { checkFaultInjection, loadNodeConfig } from './config.js'
import { ConsensusDriver } from './driver.js'
import { decodeEnvelope, encodeEnvelope, GOSSIP_LIMITS, serviceGossipRefusal, type GossipEnvelope } from './gossip-envelope.js'
import { buildNodeHttpApi } from './http-api.js'
import { NodeMetrics } from './metrics.js'
import { createLogger } from '../lib/log.js'
import { Gossip, type Verdict } from '../net/gossip.js'
import { createHost, peerIdFromEd25519PublicKey } from '../net/host.js'
import { RequestResponse } from '../net/request-response.js'
import { registerServiceProtocols } from './service-protocols.js'
import { ChainStore } from './store/chain-store.js'

export interface RunningNode {
  index: number
  peerId: string
  p2p: string[]
  http: string
  driver: ConsensusDriver
  /** Gossipsub's score of a peer here: it falls below zero once the peer sent messages this validator rejected. */
  peerScore: (peerId: string) => number
  stop: () => Promise<void>
}

export const topics = (chainId: string) => ({
  consensus: `/trustnet/${chainId}/consensus/2`,
  submissions: `/trustnet/${chainId}/submissions/1`
})

export async function startNode (home: string): Promise<RunningNode> {
  const { config, genesis, seed, dataDir } = await loadNodeConfig(home)
  checkFaultInjection(config, home)
  const log = createLogger(`node-${config.index}`)
  const store = new ChainStore(dataDir)
  await store.open()
  const tip = await store.tip() ?? { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
  const signed = await store.signed(tip.height + 1)
  if (signed.damaged) log.error({ height: tip.height + 1 }, 'the log of what this validator signed is damaged: it will not sign at this height')
  // Gossip checks each vote, the machine checks it again, and commits carry the same signatures.
  const ed = rememberingEd25519(defaultEd25519)
  const machine = new Machine({ genesis, self: { index: config.index, seed }, tip, ed, isCommitted: entry => store.isCommitted(entry), ...(signed.damaged ? { abstainAt: tip.height + 1 } : {}) })
  const services = machine.services
  machine.restore(signed.messages)

  const topic = topics(genesis.chainId)
  const validatorPeerIds = genesis.validators.map(v => peerIdFromEd25519PublicKey(v.publicKey))
  const servicePeerIds = genesis.services.map(s => peerIdFromEd25519PublicKey(s.publicKey))
  const validatorByPeer = new Map(validatorPeerIds.map((p, i) => [p, i]))
  const serviceByPeer = new Map(servicePeerIds.map((p, i) => [p, i]))
  const host = await createHost({
    privateKeySeed: seed,
    listen: [config.listen],
    peers: config.peers,
    allowedPeers: new Set([...validatorPeerIds, ...servicePeerIds]),
    // The validators' own IPs and the services' hosts are never crowded out by strangers' sockets.
    limits: { allow: [...config.peers.filter(isIpAddress), ...(config.allow ?? [])] },
    scoredTopics: [topic.consensus, topic.submissions],
    gossip: true
  })
  const metrics = new NodeMetrics({ index: config.index, status: () => driver.status(), connectedPeers: () => host.connectedPeers() })
  const topicKind = (t: string): string => t === topic.consensus ? 'consensus' : 'submissions'
  const gossip = new Gossip(host.node, {
    // Budgets of the peer that sent a message (its author or a relay); anyone else is refused by the gater and the validator.
    limitOf: peer => validatorByPeer.has(peer) ? GOSSIP_LIMITS.validator : serviceByPeer.has(peer) ? GOSSIP_LIMITS.service : undefined,
    onOverBudget: (_peer, t) => { metrics.gossipDropped('over-budget', topicKind(t)) }
  })
  const rr = new RequestResponse(host.node)

  let resends = 0
  const driver = new ConsensusDriver({
    machine,
    store,
    now: () => Date.now(),
    log,
    onCommitted: block => { metrics.committed(block.header, Date.now()) },
    publish: (message, resend) => {
      const t = message.type === 'submissions' ? topic.submissions : topic.consensus
      gossip.publish(t, encodeEnvelope(message, resend ? ++resends : 0)).catch(err => log.debug({ err: (err as Error).message }, 'publish failed'))
    },
    fetchBlocks: async (from, fromHeight) => {
      const peer = validatorPeerIds[from]
      if (peer === undefined) return []
      const bytes = await rr.request(peer, PROTOCOL.sync, encode({ fromHeight, max: MAX_SYNC_BLOCKS }), { timeoutMs: 10_000, maxResponseBytes: 16 * 1024 * 1024 })
      return decodeResponse(SyncResponseSchema, bytes, 16 * 1024 * 1024).blocks
    }
  })

  // Decoded in the validator, handed to the handler: one decode per message.
  const decoded = new WeakMap<Uint8Array, GossipEnvelope>()
  // Rejected messages are neither delivered nor forwarded, and gossipsub lowers their sender's score.
  const validate = (t: string) => (data: Uint8Array, peer: string): Verdict => {
    const service = serviceByPeer.get(peer)
    if (service === undefined && !validatorByPeer.has(peer)) {
      metrics.gossipDropped('not-a-member', topicKind(t))
      return 'reject'
    }
    try {
      const envelope = decodeEnvelope(data)
      const refusal = service === undefined ? undefined : serviceGossipRefusal(service, envelope.message)
      if (refusal !== undefined) {
        metrics.gossipDropped(refusal, topicKind(t))
        return 'reject'
      }
      // Each submission, gossiped or proposed, must come from a registered service (UNKNOWN_SERVICE, BAD_SIGNATURE).
      checkMessage(machine.validators, genesis.chainId, envelope.message, ed, services)
      decoded.set(data, envelope)
      return 'accept'
    } catch (err) {
      if (!(err instanceof TrustnetError)) throw err
      metrics.gossipDropped('invalid', topicKind(t))
      return 'reject'
    }
  }
  const handle = (data: Uint8Array): void => {
    const { message } = decoded.get(data) ?? decodeEnvelope(data)
    driver.deliver(message).catch(err => log.error({ err }, 'delivering a message failed'))
  }
  gossip.subscribe(topic.consensus, validate(topic.consensus), handle)
  gossip.subscribe(topic.submissions, validate(topic.submissions), handle)

  const certificates = new CertificateIssuer(store)
  const roles = { validator: (peer: string) => validatorByPeer.get(peer), service: (peer: string) => serviceByPeer.get(peer) }
  await registerServiceProtocols({ rr, driver, store, certificates, genesis, services, ed, index: config.index, seed, now: () => Date.now(), roles, onSubmitRefused: code => { metrics.submissionRefused(code) } })
  await driver.start()

  const http = buildNodeHttpApi({ genesis, index: config.index, peerId: host.peerId, validatorPeerIds, driver, store, connectedPeers: () => host.connectedPeers(), metrics, door: config.http, ...(process.env.TRUSTNET_FAULT_INJECTION === '1' ? { links: host.links } : {}) })
  const url = await http.listen({ host: config.http.host, port: config.http.port })
  log.info({ height: tip.height, peerId: host.peerId, http: url }, 'validator %d started', config.index)

  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      await http.close()
      await driver.stop()
      gossip.close()
      await host.stop()
      await store.close()
    })()
    await stopping
  }
  return { index: config.index, peerId: host.peerId, p2p: host.multiaddrs(), http: url, driver, peerScore: peer => gossip.peerScore(peer), stop }
}

/** Only IP addresses can be allowed by address (a DNS name is resolved when dialled, not here). */
function isIpAddress (addr: string): boolean {
  return /^\/ip[46]\//.test(addr)
}

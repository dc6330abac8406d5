/**
 * One validator process, wired in one place: its store, the consensus machine restored from what
 * it persisted, the libp2p host (gossip for consensus messages and records, request/response for
 * services and block sync), the serial driver and the operator HTTP API.
 */
import '../lib/promise-shim.js'
import { defaultEd25519, rememberingEd25519 } from '../consensus/ed25519.js'
import { TrustnetError } from '../consensus/errors.js'
import { encode } from '../consensus/codec.js'
import { genesisHash } from '../consensus/ids.js'
import { Machine } from '../consensus/machine.js'
import { checkMessage, checkProposal } from '../consensus/message-checks.js'
import { decodeResponse, MAX_SYNC_BLOCKS, PROTOCOL, RecordsResponseSchema, SyncResponseSchema } from '../protocol/node-api.js'
import { CertificateIssuer } from './certificates.js'
import { loadNodeConfig } from './config.js'
import { ConsensusDriver } from './driver.js'
import { decodeEnvelope, encodeEnvelope, type GossipEnvelope } from './gossip-envelope.js'
import { assembleProposal, type AssemblerDeps } from './proposal-assembler.js'
import { buildNodeHttpApi } from './http-api.js'
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
  stop: () => Promise<void>
}

export const topics = (chainId: string) => ({
  consensus: `/trustnet/${chainId}/consensus/1`,
  records: `/trustnet/${chainId}/records/1`
})

export async function startNode (home: string): Promise<RunningNode> {
  const { config, genesis, seed, dataDir } = await loadNodeConfig(home)
  const log = createLogger(`node-${config.index}`)
  const store = new ChainStore(dataDir)
  await store.open()
  const tip = await store.tip() ?? { height: 0, hash: genesisHash(genesis), time: genesis.genesisTime }
  const signed = await store.signed(tip.height + 1)
  if (signed.damaged) log.error({ height: tip.height + 1 }, 'the log of what this validator signed is damaged: it will not sign at this height')
  // Gossip checks each vote, the machine checks it again, and commits carry the same signatures.
  const ed = rememberingEd25519(defaultEd25519)
  const machine = new Machine({ genesis, self: { index: config.index, seed }, tip, ed, isCommitted: id => store.isCommitted(id), ...(signed.damaged ? { abstainAt: tip.height + 1 } : {}) })
  machine.restore(signed.messages)

  const topic = topics(genesis.chainId)
  const host = await createHost({ privateKeySeed: seed, listen: [config.listen], peers: config.peers, scoredTopics: [topic.consensus, topic.records], gossip: true })
  const validatorPeerIds = genesis.validators.map(v => peerIdFromEd25519PublicKey(v.publicKey))
  const gossip = new Gossip(host.node)
  const rr = new RequestResponse(host.node)

  let resends = 0
  const driver = new ConsensusDriver({
    machine,
    store,
    now: () => Date.now(),
    log,
    publish: (message, resend) => {
      const t = message.type === 'records' ? topic.records : topic.consensus
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
  const validate = (data: Uint8Array): Verdict => {
    try {
      const envelope = decodeEnvelope(data)
      if (envelope.kind === 'message') checkMessage(machine.validators, genesis.chainId, envelope.message, ed)
      // The signature covers the header (and through its Merkle root, the ids): checkable before the records are at hand.
      else checkProposal(machine.validators, genesis.chainId, { ...envelope.proposal, block: { header: envelope.proposal.header, records: [] } }, ed)
      decoded.set(data, envelope)
      return 'accept'
    } catch (err) {
      if (err instanceof TrustnetError) return 'reject'
      throw err
    }
  }
  const assembler: AssemblerDeps = {
    local: id => driver.pendingRecord(id),
    fetch: async (peer, ids) => decodeResponse(RecordsResponseSchema, await rr.request(peer, PROTOCOL.records, encode({ ids }), { timeoutMs: 5_000, maxResponseBytes: 16 * 1024 * 1024 }), 16 * 1024 * 1024).records
  }
  const handle = (data: Uint8Array, fromPeer: string): void => {
    const envelope = decoded.get(data) ?? decodeEnvelope(data)
    if (envelope.kind === 'message') {
      driver.deliver(envelope.message).catch(err => log.error({ err }, 'delivering a message failed'))
      return
    }
    const compact = envelope.proposal
    if (compact.height < machine.height) return
    const proposer = validatorPeerIds[machine.validators.proposer(compact.height, compact.round)] as string
    assembleProposal(compact, [fromPeer, proposer], assembler)
      .then(async proposal => { await driver.deliver({ type: 'proposal', proposal }) })
      .catch(err => log.debug({ err: (err as Error).message, height: compact.height, round: compact.round }, 'proposal not assembled'))
  }
  gossip.subscribe(topic.consensus, validate, handle)
  gossip.subscribe(topic.records, validate, handle)

  const certificates = new CertificateIssuer(store)
  await registerServiceProtocols({ rr, driver, store, certificates, genesis, index: config.index, seed, now: () => Date.now() })
  await driver.start()

  const http = buildNodeHttpApi({ genesis, index: config.index, peerId: host.peerId, validatorPeerIds, driver, store, certificates, connectedPeers: () => host.connectedPeers(), ...(process.env.TRUSTNET_FAULT_INJECTION === '1' ? { links: host.links } : {}) })
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
  return { index: config.index, peerId: host.peerId, p2p: host.multiaddrs(), http: url, driver, stop }
}

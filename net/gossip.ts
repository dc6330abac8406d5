/**
 * A small typed layer over gossipsub. Each topic has one validator, run inside gossipsub's topic
 * validation so a rejected message is neither delivered nor forwarded and its sender loses peer
 * score (for topics the host scores). Publishing never throws for lack of peers (it returns how
 * many peers the message went to), goes out one message at a time, waits for congested gossip
 * streams to drain and refuses to queue more than a bounded number of bytes. Message ids are the
 * SHA-256 of the data, so identical bytes published twice within gossipsub's seen-TTL (2 min)
 * count as one message, on any topic. Messages received can be held to a per-peer, per-topic
 * budget (GossipBudget): past it, a peer's messages are ignored (neither delivered nor forwarded,
 * no penalty: an honest peer may burst) before any decoding.
 */

import { setMaxListeners } from 'node:events'
import { TopicValidatorResult, type GossipSub, type GossipsubMessage, type PublishResult } from '@libp2p/gossipsub'
import { AbortedError, PublishQueueFullError } from './errors.js'
import { GossipBudget, type GossipLimit } from './gossip-budget.js'
import type { Libp2pNode } from './host.js'
import type { Logger, PeerId } from '@libp2p/interface'

export type Verdict = 'accept' | 'ignore' | 'reject'
/** Must be fast (gossipsub penalises slow validation); should return 'reject' for malformed data. */
export type Validator = (data: Uint8Array, fromPeer: string) => Verdict
/** `fromPeer` is the peer that relayed the message, not necessarily its author. */
export type MessageHandler = (data: Uint8Array, fromPeer: string) => void

export interface GossipInit {
  /** Bytes allowed to wait in the publish queue before publish() refuses. @default 8 MiB */
  maxQueuedBytes?: number
  /** Longest wait for a congested gossip stream before publishing anyway. @default 2_000 */
  drainTimeoutMs?: number
  /** The budget of messages a peer (the one that sent them to us) may send on a topic; undefined: unlimited. */
  limitOf?: (peer: string, topic: string) => GossipLimit | undefined
  /** Told of each message ignored for being over its sender's budget. */
  onOverBudget?: (peer: string, topic: string) => void
}

/** gossipsub's class accepts per-call options; its exported interface does not declare them. */
type PublishWithOptions = (topic: string, data: Uint8Array, opts: { allowPublishToZeroTopicPeers: boolean }) => Promise<PublishResult>

const VERDICTS: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject
}

export class Gossip {
  private readonly pubsub: GossipSub
  private readonly log: Logger
  private readonly maxQueuedBytes: number
  private readonly drainTimeoutMs: number
  private readonly budget: GossipBudget | undefined
  private readonly onOverBudget: ((peer: string, topic: string) => void) | undefined
  private readonly unsubscribers = new Map<string, () => void>()
  private queuedBytes = 0
  private tail: Promise<unknown> = Promise.resolve()

  constructor (private readonly node: Libp2pNode, init: GossipInit = {}) {
    this.pubsub = node.services.pubsub
    this.log = node.logger.forComponent('trustnet:gossip')
    this.maxQueuedBytes = init.maxQueuedBytes ?? 8 * 1024 * 1024
    this.drainTimeoutMs = init.drainTimeoutMs ?? 2_000
    this.budget = init.limitOf === undefined ? undefined : new GossipBudget(init.limitOf)
    this.onOverBudget = init.onOverBudget
  }

  /** Subscribes with one validator and one handler per topic; returns the unsubscribe function. */
  subscribe (topic: string, validate: Validator, onMessage: MessageHandler): () => void {
    if (this.unsubscribers.has(topic)) throw new Error(`already subscribed to ${topic}`)
    this.pubsub.topicValidators.set(topic, (peer, msg) => {
      const from = peer.toString()
      // gossipsub has marked the message seen by now: a copy from another peer is a duplicate.
      if (this.budget?.take(from, topic, msg.data.byteLength) === false) {
        this.onOverBudget?.(from, topic)
        return TopicValidatorResult.Ignore
      }
      try {
        return VERDICTS[validate(msg.data, from)]
      } catch (err) {
        // A throwing validator is our bug, not the peer's fault: drop without penalty.
        this.log.error('validator for %s threw - %e', topic, err)
        return TopicValidatorResult.Ignore
      }
    })
    const listener = (evt: CustomEvent<GossipsubMessage>): void => {
      const { msg, propagationSource } = evt.detail
      if (msg.topic !== topic) return
      try {
        onMessage(msg.data, propagationSource.toString())
      } catch (err) {
        this.log.error('handler for %s threw - %e', topic, err)
      }
    }
    this.pubsub.addEventListener('gossipsub:message', listener)
    this.pubsub.subscribe(topic)
    const unsubscribe = (): void => {
      if (this.unsubscribers.get(topic) !== unsubscribe) return
      this.unsubscribers.delete(topic)
      this.pubsub.removeEventListener('gossipsub:message', listener)
      this.pubsub.topicValidators.delete(topic)
      this.pubsub.unsubscribe(topic)
    }
    this.unsubscribers.set(topic, unsubscribe)
    return unsubscribe
  }

  /** Publishes `data`; resolves to the number of peers it was sent to (0 when none). */
  async publish (topic: string, data: Uint8Array): Promise<number> {
    if (this.queuedBytes + data.byteLength > this.maxQueuedBytes) {
      throw new PublishQueueFullError('publish queue full', { queuedBytes: this.queuedBytes, maxQueuedBytes: this.maxQueuedBytes })
    }
    this.queuedBytes += data.byteLength
    const run = this.tail.then(async () => await this.publishNow(topic, data))
    this.tail = run.catch(() => {})
    try {
      return await run
    } finally {
      this.queuedBytes -= data.byteLength
    }
  }

  /** Peers subscribed to `topic` that we can send to right now. */
  topicPeers (topic: string): string[] {
    return this.pubsub.getSubscribers(topic)
      .filter(p => this.hasOutboundGossipStream(p))
      .map(p => p.toString())
  }

  /** Resolves once at least `n` peers can receive our messages on `topic`. */
  async waitForTopicPeers (topic: string, n: number, signal?: AbortSignal): Promise<void> {
    if (this.topicPeers(topic).length >= n) return
    if (signal?.aborted === true) throw new AbortedError('aborted waiting for topic peers', { topic, n })
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.topicPeers(topic).length < n) return
        cleanup()
        resolve()
      }
      const onAbort = (): void => {
        cleanup()
        reject(new AbortedError('aborted waiting for topic peers', { topic, n, have: this.topicPeers(topic).length }))
      }
      // Subscriptions and grafts usually settle it; the heartbeat catches a late outbound stream.
      const events = ['subscription-change', 'gossipsub:graft', 'gossipsub:heartbeat'] as const
      const cleanup = (): void => {
        for (const e of events) this.pubsub.removeEventListener(e, check)
        signal?.removeEventListener('abort', onAbort)
      }
      for (const e of events) this.pubsub.addEventListener(e, check)
      signal?.addEventListener('abort', onAbort)
    })
  }

  /** Gossipsub's score of a peer: below zero once it sent messages a topic validator rejected. */
  peerScore (peerId: string): number {
    // The class has it; the interface gossipsub exports does not declare it.
    return (this.pubsub as unknown as { getScore: (peer: string) => number }).getScore(peerId)
  }

  /** Unsubscribes from every topic this wrapper subscribed to. */
  close (): void {
    for (const unsubscribe of [...this.unsubscribers.values()]) unsubscribe()
  }

  private async publishNow (topic: string, data: Uint8Array): Promise<number> {
    await this.drainGossipStreams()
    const publish = this.pubsub.publish.bind(this.pubsub) as PublishWithOptions
    try {
      // Refusing zero-peer publishes per call keeps the message out of gossipsub's seen cache,
      // so the same bytes can be published again once peers arrive.
      const { recipients } = await publish(topic, data, { allowPublishToZeroTopicPeers: false })
      return recipients.length
    } catch (err) {
      if (err instanceof Error && err.message === 'PublishError.NoPeersSubscribedToTopic') return 0
      throw err
    }
  }

  /** Waits (bounded) for congested outbound gossip streams: gossipsub has no backpressure. */
  private async drainGossipStreams (): Promise<void> {
    const protocols = new Set(this.pubsub.protocols)
    const congested = this.node.getConnections()
      .flatMap(c => c.streams)
      .filter(s => s.direction === 'outbound' && protocols.has(s.protocol) && s.writableNeedsDrain)
    if (congested.length === 0) return
    const signal = AbortSignal.timeout(this.drainTimeoutMs)
    setMaxListeners(Infinity, signal)
    await Promise.allSettled(congested.map(async s => { await s.onDrain({ signal }) }))
  }

  private hasOutboundGossipStream (peer: PeerId): boolean {
    const protocols = new Set(this.pubsub.protocols)
    return this.node.getConnections(peer).some(c =>
      c.status === 'open' &&
      c.streams.some(s => s.direction === 'outbound' && protocols.has(s.protocol) && s.status === 'open'))
  }
}

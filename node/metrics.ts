/**
 * A validator's Prometheus metrics. Height, round, mempool and peers are read from the driver and
 * the host when scraped, so the consensus loop pays nothing for them; committed blocks (entries,
 * commit latency), refused submissions and dropped gossip are counted as they happen. Every
 * series carries the validator's index as label `validator`.
 */
import type { FastifyInstance } from 'fastify'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { BlockHeader } from '../consensus/types.js'
import { exposeMetrics, newRegistry } from '../lib/http-metrics.js'
import type { ConsensusStatus } from './driver.js'

export interface NodeMetricsSource {
  index: number
  status: () => ConsensusStatus
  connectedPeers: () => readonly string[]
}

/** From a block's proposal to its commit: sub-second when healthy, tens of seconds when rounds fail. */
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60]

export class NodeMetrics {
  readonly registry: Registry
  private readonly latency: Histogram
  private readonly entries: Counter
  private readonly refusals: Counter<'code'>
  private readonly gossipDrops: Counter<'reason' | 'topic'>

  constructor (source: NodeMetricsSource) {
    this.registry = newRegistry({ validator: String(source.index) })
    const registers = [this.registry]
    const onScrape = (name: string, help: string, read: () => number): Gauge => new Gauge({ name, help, registers, collect () { this.set(read()) } })
    onScrape('trustnet_height', 'Height of the last block this validator committed', () => source.status().tip.height)
    onScrape('trustnet_round', 'Consensus round at the height being decided', () => source.status().round)
    onScrape('trustnet_mempool_entries', 'Entries waiting in the mempool for a block', () => source.status().mempool)
    onScrape('trustnet_peers', 'libp2p peers connected (validators and services)', () => source.connectedPeers().length)
    this.latency = new Histogram({ name: 'trustnet_commit_latency_seconds', help: 'From the time a block\'s proposer stamped in its header to this validator storing it as committed', buckets: LATENCY_BUCKETS, registers })
    this.entries = new Counter({ name: 'trustnet_entries_committed_total', help: 'Entries in the blocks this validator committed', registers })
    this.refusals = new Counter({ name: 'trustnet_submissions_refused_total', help: 'Submissions from services refused, by error code', labelNames: ['code'] as const, registers })
    this.gossipDrops = new Counter({ name: 'trustnet_gossip_dropped_total', help: 'Gossip messages received and neither delivered nor relayed, by reason and topic', labelNames: ['reason', 'topic'] as const, registers })
  }

  /** A block was stored as committed at `now` (ms); its header's time is its proposer's clock. */
  committed (header: Pick<BlockHeader, 'time' | 'entryCount'>, now: number): void {
    this.latency.observe(Math.max(0, now - header.time) / 1000)
    this.entries.inc(header.entryCount)
  }

  submissionRefused (code: string): void {
    this.refusals.inc({ code })
  }

  /** A gossip message dropped: over its sender's budget, not the sender's to send, or invalid. */
  gossipDropped (reason: string, topic: string): void {
    this.gossipDrops.inc({ reason, topic })
  }

  /** Request timing and `GET /metrics` on the operator API. */
  expose (app: FastifyInstance): void {
    exposeMetrics(app, this.registry)
  }
}

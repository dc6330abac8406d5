/**
 * How long and how hard each phase runs. `full` is the real measurement; `short` keeps every
 * phase but brief (CI checks that figures come out and are sane, not their precision); `tiny`,
 * for extra validator counts in a short run, keeps only single-record throughput, latency,
 * resources and offline verification.
 */
export interface Profile {
  name: 'full' | 'short' | 'tiny'
  /** Whether the batch and the verify phases run. */
  batch: boolean
  verify: boolean
  /** Load-client processes; requests in flight are spread across them. */
  clients: number
  /** Requests in flight in the single-record phase (not waiting for certificates), over all clients. */
  singleConcurrency: number
  /** Batch requests in flight, over all clients (enough to keep the certification pipeline full), and hashes per batch. */
  batchConcurrency: number
  batchSize: number
  warmupMs: number
  measureMs: number
  /** Batches take seconds each: their window is longer, so it holds several answers per client. */
  batchWarmupMs: number
  batchMeasureMs: number
  /** The latency phase's rise from zero to its rate, then its measured part (after `warmupMs` more at the rate). */
  pacedRampMs: number
  pacedMs: number
  /** Documents stored for the verify phase, and verify requests in flight. */
  documents: number
  verifyConcurrency: number
  verifyMeasureMs: number
  offlineVerifyMs: number
  /** Certificates each client keeps from each phase for offline verification. */
  keepCertificates: number
}

const full: Profile = {
  name: 'full',
  batch: true,
  verify: true,
  clients: 2,
  singleConcurrency: 64,
  batchConcurrency: 16,
  batchSize: 1000,
  warmupMs: 3000,
  measureMs: 20_000,
  batchWarmupMs: 5000,
  batchMeasureMs: 25_000,
  pacedRampMs: 6000,
  pacedMs: 20_000,
  documents: 200,
  verifyConcurrency: 16,
  verifyMeasureMs: 10_000,
  offlineVerifyMs: 3000,
  keepCertificates: 200
}

const short: Profile = {
  ...full,
  name: 'short',
  // Fewer batches in flight: after the window the bench waits for those in flight to be answered.
  batchConcurrency: 4,
  warmupMs: 1000,
  measureMs: 3000,
  batchWarmupMs: 1000,
  batchMeasureMs: 5000,
  pacedRampMs: 1000,
  pacedMs: 3000,
  documents: 32,
  verifyMeasureMs: 1500,
  offlineVerifyMs: 1000,
  keepCertificates: 50
}

const tiny: Profile = {
  ...short,
  name: 'tiny',
  batch: false,
  verify: false,
  // The single-record window keeps short's length: it must span several rounds of the larger
  // cluster, or the service's certified counter may not move in it at all.
  pacedMs: 1500,
  offlineVerifyMs: 500,
  keepCertificates: 20
}

export const PROFILES = { full, short, tiny } as const

/** Machine baselines: how long each one runs. */
export const baselineMs = (short: boolean): number => short ? 500 : 2000

/**
 * The messages between the bench and its load-client processes (over the fork IPC channel). The
 * bench sends one phase at a time to each client; the client runs it against the service and
 * answers with one result. Times are epoch milliseconds, comparable across processes on one
 * machine, so all clients start and measure over the same window.
 */
export interface Target {
  serviceUrl: string
  apiKey: string
}

/** Requests are sent from `startAt` until `measureTo`; what they certify counts for the part of their time inside [measureFrom, measureTo]. */
export interface Window {
  startAt: number
  measureFrom: number
  measureTo: number
}

export type Phase =
  /** Closed loop: `concurrency` requests in flight, each POST /v1/hashes?wait=false with one random hash (answered once stored). */
  | { kind: 'single', concurrency: number, window: Window }
  /** Closed loop of POST /v1/hashes/batch with `batchSize` random hashes each, waiting for the certificates. */
  | { kind: 'batch', concurrency: number, batchSize: number, window: Window, keepCertificates: number }
  /**
   * Open loop: POST /v1/hashes sent on a fixed schedule whatever the answers; latency from the
   * scheduled time, for requests scheduled from `measureFrom` (before it, connections open and the
   * pipeline fills). The rate rises evenly from zero at `startAt` to `ratePerS` at `rampUntil`,
   * then holds.
   */
  | { kind: 'paced', ratePerS: number, startAt: number, rampUntil: number, measureFrom: number, durationMs: number, maxInFlight: number, keepCertificates: number }
  /**
   * Open `count` keep-alive connections to the service (GET /v1/health, all at once) and keep them
   * for the phases that follow, so a paced phase does not open them while it is measured.
   */
  | { kind: 'connect', count: number }
  /** Store `count` small documents with POST /v1/data and return the ids certified. */
  | { kind: 'store', count: number, concurrency: number, bytes: number }
  /** Closed loop of POST /v1/data/:id/verify over `ids`. */
  | { kind: 'verify', ids: string[], concurrency: number, window: Window }
  /**
   * The soak's load: open loop like `paced` (rising to `ratePerS` at `rampUntil`, then holding),
   * alternately storing a small document (POST /v1/data) and anchoring a hash (POST /v1/hashes),
   * each waiting for its certificate, until told to stop; every certificate is returned, and the
   * latency of every request scheduled from `rampUntil`.
   */
  | { kind: 'soak', ratePerS: number, startAt: number, rampUntil: number, maxInFlight: number }

export type Command =
  | { type: 'run', target: Target, phase: Phase }
  | { type: 'stop' }

export interface PhaseResult {
  kind: Phase['kind']
  /** Records certified (single: accepted) or verifications answered within the window, see load-phases.ts `credit`. */
  inWindow: number
  /** Records certified (single: accepted) or verifications that succeeded at any time in the phase; connect: connections open. */
  ok: number
  requests: number
  /** Answers without a certificate yet (202): accepted, not counted as certified. */
  pending: number
  failures: number
  firstFailure?: string
  /** paced, soak: request-to-certificate times of certified requests scheduled from `measureFrom` (soak: `rampUntil`), ms. */
  latenciesMs: number[]
  /** paced, soak: requests not sent because `maxInFlight` were outstanding. */
  dropped: number
  /** paced, soak: requests scheduled from `measureFrom` but sent more than 50 ms late: the client fell behind. */
  lateSends: number
  /** A sample of certificates (JSON) for offline verification. */
  certificates: unknown[]
  /** store: ids of certified documents; soak: every certified id. */
  ids: string[]
  /** soak: certificate JSON of each id in `ids`, same order. */
  certified: unknown[]
}

export function emptyResult (kind: Phase['kind']): PhaseResult {
  return { kind, inWindow: 0, ok: 0, requests: 0, pending: 0, failures: 0, latenciesMs: [], dropped: 0, lateSends: 0, certificates: [], ids: [], certified: [] }
}

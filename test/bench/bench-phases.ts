/**
 * The measured phases of one cluster, driven through the load clients: certified records/s with
 * single-record and with batch requests (closed loops), request-to-certificate latency at half the
 * single-record peak (open loop), and verify requests/s on stored documents. Each phase emits its
 * figures and returns what later phases need; the bench waits for the network to drain between
 * phases so one phase's backlog does not count in the next.
 */
import { merge, type ClientPool } from './client-pool.js'
import type { PhaseResult, Target, Window } from './load-protocol.js'
import type { Profile } from './profiles.js'
import { log, type Report } from './report.js'
import { percentile, round, sortedCopy } from './stats.js'
import { anchorHash, randomHash } from './service-requests.js'
import { waitIdle } from './validators-http.js'

export interface Baselines { sha256PerS: number, levelPutsPerS: number }

export interface PhaseContext {
  pool: ClientPool
  target: Target
  nodeUrls: string[]
  validators: number
  profile: Profile
  report: Report
  baselines: Baselines
}

/** Time for the phase command to reach every client before the common start. */
const START_LEAD_MS = 300

function window (warmupMs: number, measureMs: number): Window {
  const startAt = Date.now() + START_LEAD_MS
  return { startAt, measureFrom: startAt + warmupMs, measureTo: startAt + warmupMs + measureMs }
}

/** Split `total` over `parts` as evenly as whole numbers allow. */
const share = (total: number, parts: number, i: number): number => Math.floor(total / parts) + (i < total % parts ? 1 : 0)

/** A throughput figure, also as a fraction of this machine's raw SHA-256 and LevelDB put rates. */
export function emitThroughput (ctx: Pick<PhaseContext, 'report' | 'baselines'>, metric: string, value: number, unit: string, validators: number, extra: Record<string, unknown> = {}): void {
  ctx.report.emit({
    metric,
    value: round(value),
    unit,
    validators,
    per_sha256: round(value / ctx.baselines.sha256PerS, 3),
    per_level_put: round(value / ctx.baselines.levelPutsPerS, 3),
    ...extra
  })
}

function describe (what: string, r: PhaseResult): string {
  return `${what}: ${r.ok} ok of ${r.requests} requests, ${r.pending} pending, ${r.failures} failed${r.firstFailure !== undefined ? ` (first: ${r.firstFailure})` : ''}`
}

/** One record through the whole path before measuring: connections up, first blocks committed. */
export async function warmUp (ctx: PhaseContext): Promise<void> {
  const started = Date.now()
  const a = await anchorHash(ctx.target, randomHash())
  if (a.status !== 201) throw new Error(`the first record was not certified: ${a.error ?? `status ${a.status}`}`)
  log(`${ctx.validators} validators: first record certified in ${Date.now() - started} ms`)
}

/** Closed loop of single-record requests; returns records/s and the certificates kept. */
export async function singleRecordPhase (ctx: PhaseContext): Promise<{ perS: number, certificates: unknown[] }> {
  const p = ctx.profile
  const w = window(p.warmupMs, p.measureMs)
  log(`${ctx.validators} validators: single-record load, ${p.singleConcurrency} requests in flight, ${p.measureMs} ms`)
  const r = merge(await ctx.pool.run(ctx.target, i => ({ kind: 'single', concurrency: share(p.singleConcurrency, ctx.pool.size, i), window: w, keepCertificates: p.keepCertificates })))
  log(describe('single', r))
  const perS = r.inWindow / (p.measureMs / 1000)
  emitThroughput(ctx, 'certified_records_per_s_single', perS, 'records/s', ctx.validators, { concurrency: p.singleConcurrency, clients: ctx.pool.size, failures: r.failures, pending: r.pending })
  await waitIdle(ctx.nodeUrls)
  return { perS, certificates: r.certificates }
}

/** Closed loop of batch requests; undefined when the service has no batch endpoint. */
export async function batchPhase (ctx: PhaseContext): Promise<{ perS: number, certificates: unknown[] } | undefined> {
  const p = ctx.profile
  const w = window(p.batchWarmupMs, p.batchMeasureMs)
  log(`${ctx.validators} validators: batch load, ${p.batchConcurrency} batches of ${p.batchSize} in flight, ${p.batchMeasureMs} ms`)
  const r = merge(await ctx.pool.run(ctx.target, i => ({ kind: 'batch', concurrency: share(p.batchConcurrency, ctx.pool.size, i), batchSize: p.batchSize, window: w, keepCertificates: p.keepCertificates })))
  if (r.notFound) {
    ctx.report.note(`${ctx.validators} validators: batch figures not available: POST /v1/hashes/batch answered 404 (no batch endpoint on this service)`)
    ctx.report.emit({ metric: 'batch_available', value: 0, unit: 'bool', validators: ctx.validators })
    return undefined
  }
  log(describe('batch', r))
  ctx.report.emit({ metric: 'batch_available', value: 1, unit: 'bool', validators: ctx.validators })
  const perS = r.inWindow / (p.batchMeasureMs / 1000)
  emitThroughput(ctx, 'certified_records_per_s_batch', perS, 'records/s', ctx.validators, { batch_size: p.batchSize, batches_in_flight: p.batchConcurrency, clients: ctx.pool.size, failures: r.failures, pending: r.pending })
  await waitIdle(ctx.nodeUrls)
  return { perS, certificates: r.certificates }
}

/** Open-loop single-record load at `ratePerS`; latency from scheduled send to certificate. */
export async function latencyPhase (ctx: PhaseContext, ratePerS: number): Promise<void> {
  const p = ctx.profile
  const startAt = Date.now() + START_LEAD_MS
  const clients = ctx.pool.size
  log(`${ctx.validators} validators: paced load at ${round(ratePerS)} requests/s for ${p.pacedMs} ms`)
  // Each client sends every clients/rate seconds, offset so that together they send evenly.
  const r = merge(await ctx.pool.run(ctx.target, i => ({ kind: 'paced', ratePerS: ratePerS / clients, startAt: startAt + (i * 1000) / ratePerS, durationMs: p.pacedMs, maxInFlight: 5000 })))
  log(describe('paced', r))
  const sorted = sortedCopy(r.latenciesMs)
  if (sorted.length === 0) throw new Error(`no request of the paced phase was certified (${r.failures} failed, ${r.pending} pending)`)
  const extra = { rate_per_s: round(ratePerS), samples: sorted.length, achieved_per_s: round(r.ok / (p.pacedMs / 1000)), failures: r.failures, pending: r.pending, dropped: r.dropped }
  for (const q of [50, 95, 99]) {
    ctx.report.emit({ metric: `latency_p${q}_ms`, value: round(percentile(sorted, q)), unit: 'ms', validators: ctx.validators, ...extra })
  }
  await waitIdle(ctx.nodeUrls)
}

/** Store documents, then a closed loop of verify requests over them. */
export async function verifyPhase (ctx: PhaseContext): Promise<void> {
  const p = ctx.profile
  log(`${ctx.validators} validators: storing ${p.documents} documents for the verify phase`)
  const stored = merge(await ctx.pool.run(ctx.target, i => ({ kind: 'store', count: share(p.documents, ctx.pool.size, i), concurrency: 8, bytes: 1024 })))
  log(describe('store', stored))
  if (stored.ids.length === 0) throw new Error('no document was certified: cannot measure verify requests')
  const w = window(Math.min(500, p.warmupMs), p.verifyMeasureMs)
  const r = merge(await ctx.pool.run(ctx.target, i => ({ kind: 'verify', ids: stored.ids, concurrency: share(p.verifyConcurrency, ctx.pool.size, i), window: w })))
  log(describe('verify', r))
  emitThroughput(ctx, 'verify_requests_per_s', r.inWindow / (p.verifyMeasureMs / 1000), 'requests/s', ctx.validators, { documents: stored.ids.length, concurrency: p.verifyConcurrency, failures: r.failures })
}

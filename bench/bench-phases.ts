/**
 * The measured phases of one cluster, driven through the load clients: certified records/s with
 * single-record requests that do not wait and with batch requests that do (closed loops, counted
 * by the service), request-to-certificate latency at half the single-record peak (open loop), and
 * verify requests/s on stored documents. Each phase emits its figures and returns what later
 * phases need; the bench waits for the backlog to drain between phases so one phase's work does
 * not count in the next.
 */
import { availableParallelism } from 'node:os'
import { waitFor } from '../lib/wait-for.js'
import { merge, type ClientPool } from './client-pool.js'
import { cpuBetween, type CpuMeter, type CpuSample } from './cpu-meter.js'
import type { Phase, PhaseResult, Target, Window } from './load-protocol.js'
import type { Profile } from './profiles.js'
import { log, type Report } from './report.js'
import { percentile, round, sortedCopy } from './stats.js'
import { anchorHash, randomHash, serviceStatus, type ServiceStatus } from './service-requests.js'
import { waitIdle } from './validators-http.js'

export interface Baselines {
  sha256PerS: number
  levelPutsPerS: number
  /** ed25519 verifications per second of one thread (baselines.ts). */
  ed25519VerifyPerS: number
  /** CPU µs per record of one validator's own record path, in one process (record-path.ts). */
  recordPathUs: number
}

/**
 * Records/s that `validators` validators sharing this machine's cores could certify if the cores
 * did nothing but each validator's own record path: a ceiling no other work can raise.
 */
export function replicaBound (baselines: Baselines, validators: number): number {
  return availableParallelism() * 1e6 / (validators * baselines.recordPathUs)
}

export interface PhaseContext {
  pool: ClientPool
  target: Target
  nodeUrls: string[]
  validators: number
  profile: Profile
  report: Report
  baselines: Baselines
  /** CPU time of every process of the run: validators (node-i), the service, the load clients (client-i). */
  cpu: CpuMeter
}

/** Time for the phase command to reach every client before the common start. */
const START_LEAD_MS = 300
/** The paced phase keeps up to this many seconds of its requests in flight. */
const PACED_IN_FLIGHT_S = 5
/** Connections each client opens before the paced phase: enough for this many seconds of its requests in flight. */
const PACED_CONNECTIONS_S = 3

function window (warmupMs: number, measureMs: number): Window {
  const startAt = Date.now() + START_LEAD_MS
  return { startAt, measureFrom: startAt + warmupMs, measureTo: startAt + warmupMs + measureMs }
}

/** Split `total` over `parts` as evenly as whole numbers allow. */
const share = (total: number, parts: number, i: number): number => Math.floor(total / parts) + (i < total % parts ? 1 : 0)

/**
 * A throughput figure, also as a fraction of this machine's raw SHA-256 and LevelDB put rates
 * and, for records, of the validators' replica bound.
 */
export function emitThroughput (ctx: Pick<PhaseContext, 'report' | 'baselines'>, metric: string, value: number, unit: string, validators: number, extra: Record<string, unknown> = {}): void {
  ctx.report.emit({
    metric,
    value: round(value),
    unit,
    validators,
    per_sha256: round(value / ctx.baselines.sha256PerS, 3),
    per_level_put: round(value / ctx.baselines.levelPutsPerS, 3),
    ...(unit === 'records/s' ? { per_replica_bound: round(value / replicaBound(ctx.baselines, validators), 3) } : {}),
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

/** Clock waits for the window's edges: the window's own timing, not a condition. */
const sleepUntil = async (at: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, Math.max(0, at - Date.now()))) }

/** The service's counters read at `at`, stamped with the middle of the request that read them, and every process's CPU time. */
async function sampleAt (ctx: PhaseContext, at: number): Promise<{ at: number, status: ServiceStatus, cpu: CpuSample }> {
  await sleepUntil(at)
  const sent = Date.now()
  const [status, cpu] = await Promise.all([serviceStatus(ctx.target), ctx.cpu.sample()])
  return { at: (sent + Date.now()) / 2, status, cpu }
}

/**
 * CPU per record certified between two samples, all processes together, split by role. Each core
 * gives 1,000,000 µs a second, so on a machine they share, this total bounds records/s.
 */
function emitCpu (ctx: PhaseContext, phase: string, from: { status: ServiceStatus, cpu: CpuSample }, to: { status: ServiceStatus, cpu: CpuSample }): void {
  const records = to.status.certified - from.status.certified
  if (records <= 0) return
  const use = cpuBetween(from.cpu, to.cpu)
  const slots = [...use.processes.keys()]
  const usPerRecord = (of: string[]): number => round(of.reduce((sum, slot) => sum + (use.processes.get(slot) ?? 0), 0) * 1e6 / records)
  ctx.report.emit({
    metric: `cpu_us_per_record_${phase}`,
    value: usPerRecord(slots),
    unit: 'us/record',
    validators: ctx.validators,
    per_validator: slots.filter(s => s.startsWith('node-')).map(s => usPerRecord([s])),
    service: usPerRecord(['service']),
    load_clients: usPerRecord(slots.filter(s => s.startsWith('client-'))),
    machine_busy: round(use.machineBusy, 3),
    cores: availableParallelism(),
    records
  })
}

/**
 * Run a phase on every client while this process reads the service's counters at the window's
 * start and end: records certified per second is their difference over the time between,
 * whoever sent the records and whether or not anyone waited for the certificates. The CPU each
 * record cost is emitted as `cpu_us_per_record_<phase>`.
 */
async function measured (ctx: PhaseContext, w: Window, phaseOf: (client: number) => Phase): Promise<{ r: PhaseResult, certifiedPerS: number, end: ServiceStatus }> {
  const running = ctx.pool.run(ctx.target, phaseOf)
  // A failure there is reported by the await below, not as an unhandled rejection meanwhile.
  running.catch(() => undefined)
  const from = await sampleAt(ctx, w.measureFrom)
  const to = await sampleAt(ctx, w.measureTo)
  const r = merge(await running)
  emitCpu(ctx, r.kind, from, to)
  return { r, certifiedPerS: (to.status.certified - from.status.certified) / ((to.at - from.at) / 1000), end: to.status }
}

/**
 * Wait until the service has certified every item it stored and the validators are idle, so the
 * next phase starts on an empty pipeline; returns how long that took. The deadline allows three
 * times the backlog's drain at the rate just measured, within bounds.
 */
async function drain (ctx: PhaseContext, backlog: number, certifiedPerS: number): Promise<number> {
  const started = Date.now()
  const timeoutMs = Math.min(600_000, Math.max(60_000, 3000 * backlog / Math.max(certifiedPerS, 1)))
  await waitFor(`the service to certify its backlog of ${backlog} records`, async () => {
    const s = await serviceStatus(ctx.target)
    return s.certified >= s.stored && s.inFlight === 0 && s.queued === 0 ? true : undefined
  }, timeoutMs, 100)
  await waitIdle(ctx.nodeUrls)
  return Date.now() - started
}

/**
 * Closed loop of single-record requests that do not wait for the certificate (202 once stored);
 * records/s is the rate at which the service certified in the window, the peak later phases use.
 */
export async function singleRecordPhase (ctx: PhaseContext): Promise<{ perS: number }> {
  const p = ctx.profile
  const w = window(p.warmupMs, p.measureMs)
  log(`${ctx.validators} validators: single-record load (wait=false), ${p.singleConcurrency} requests in flight, ${p.measureMs} ms`)
  const { r, certifiedPerS, end } = await measured(ctx, w, i => ({ kind: 'single', concurrency: share(p.singleConcurrency, ctx.pool.size, i), window: w }))
  log(describe('single', r))
  const acceptedPerS = r.inWindow / (p.measureMs / 1000)
  const backlog = end.stored - end.certified
  const drainedInMs = await drain(ctx, backlog, certifiedPerS)
  log(`${ctx.validators} validators: single-record backlog of ${backlog} records certified in ${drainedInMs} ms`)
  const load = { concurrency: p.singleConcurrency, clients: ctx.pool.size, failures: r.failures }
  emitThroughput(ctx, 'certified_records_per_s_single', certifiedPerS, 'records/s', ctx.validators, { ...load, source: 'service counters' })
  emitThroughput(ctx, 'accepted_records_per_s_single', acceptedPerS, 'records/s', ctx.validators, { ...load, source: 'clients (202 answers)' })
  ctx.report.emit({ metric: 'backlog_records_single', value: backlog, unit: 'records', validators: ctx.validators, drained_in_ms: drainedInMs })
  return { perS: certifiedPerS }
}

/**
 * Closed loop of batch requests waiting for their certificates. Every refusal, a 404 included,
 * is a failure the figures carry: the service always has the batch endpoint, and a bench that
 * quietly skipped the phase on a 404 would hide a broken one.
 */
export async function batchPhase (ctx: PhaseContext): Promise<{ perS: number, certificates: unknown[] }> {
  const p = ctx.profile
  const w = window(p.batchWarmupMs, p.batchMeasureMs)
  log(`${ctx.validators} validators: batch load, ${p.batchConcurrency} batches of ${p.batchSize} in flight, ${p.batchMeasureMs} ms`)
  const { r, certifiedPerS, end } = await measured(ctx, w, i => ({ kind: 'batch', concurrency: share(p.batchConcurrency, ctx.pool.size, i), batchSize: p.batchSize, window: w, keepCertificates: p.keepCertificates }))
  log(describe('batch', r))
  const drainedInMs = await drain(ctx, end.stored - end.certified, certifiedPerS)
  const load = { batch_size: p.batchSize, batches_in_flight: p.batchConcurrency, clients: ctx.pool.size, failures: r.failures, pending: r.pending }
  emitThroughput(ctx, 'certified_records_per_s_batch', certifiedPerS, 'records/s', ctx.validators, { ...load, source: 'service counters', drained_in_ms: drainedInMs })
  emitThroughput(ctx, 'delivered_records_per_s_batch', r.inWindow / (p.batchMeasureMs / 1000), 'records/s', ctx.validators, { ...load, source: 'clients (certificates received)' })
  return { perS: certifiedPerS, certificates: r.certificates }
}

/**
 * Open-loop single-record load at `ratePerS`, each request waiting for its certificate; latency
 * from scheduled send to certificate. Returns the certificates kept.
 */
export async function latencyPhase (ctx: PhaseContext, ratePerS: number): Promise<{ certificates: unknown[] }> {
  const p = ctx.profile
  const clients = ctx.pool.size
  // Opened now, not by the phase's requests: under load the service takes new connections one
  // per turn of its event loop, and a burst of them (whenever latency rises, more requests are in
  // flight) waited in its accept queue for seconds: p99 of 4-7 s in some cold runs at 1,000/s.
  const connections = Math.ceil(ratePerS / clients * PACED_CONNECTIONS_S)
  const opened = merge(await ctx.pool.run(ctx.target, () => ({ kind: 'connect', count: connections })))
  if (opened.failures > 0) log(describe('connect', opened))
  const startAt = Date.now() + START_LEAD_MS
  // The rate rises over the ramp and holds through a warm-up before the measured part, so the
  // pipeline (outbox rounds, blocks) is full when measuring starts.
  const durationMs = p.pacedRampMs + p.warmupMs + p.pacedMs
  log(`${ctx.validators} validators: paced load at ${round(ratePerS)} requests/s for ${durationMs} ms (${p.pacedRampMs} ms rising to it, ${p.warmupMs} ms warm-up)`)
  // Room for every request of the last few seconds, so a latency of seconds shows as latency, not as dropped requests.
  const maxInFlight = Math.max(64, Math.ceil(ratePerS / clients * PACED_IN_FLIGHT_S))
  // Each client sends every clients/rate seconds, offset so that together they send evenly.
  const w = { startAt, measureFrom: startAt + p.pacedRampMs + p.warmupMs, measureTo: startAt + durationMs }
  const { r } = await measured(ctx, w, i => ({
    kind: 'paced',
    ratePerS: ratePerS / clients,
    startAt: startAt + (i * 1000) / ratePerS,
    rampUntil: startAt + p.pacedRampMs,
    measureFrom: w.measureFrom,
    durationMs,
    maxInFlight,
    keepCertificates: p.keepCertificates
  }))
  log(describe('paced', r))
  const sorted = sortedCopy(r.latenciesMs)
  if (sorted.length === 0) throw new Error(`no request of the paced phase was certified (${r.failures} failed, ${r.pending} pending)`)
  const extra = { rate_per_s: round(ratePerS), samples: sorted.length, achieved_per_s: round(sorted.length / (p.pacedMs / 1000)), failures: r.failures, pending: r.pending, dropped: r.dropped, late_sends: r.lateSends }
  for (const q of [50, 95, 99]) {
    ctx.report.emit({ metric: `latency_p${q}_ms`, value: round(percentile(sorted, q)), unit: 'ms', validators: ctx.validators, ...extra })
  }
  await drain(ctx, r.pending, ratePerS)
  return { certificates: r.certificates }
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

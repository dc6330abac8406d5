/**
 * `npm run bench -- --soak [--minutes N] [--rate N]`: a cluster under steady open-loop load from
 * client processes (documents and hashes sent on a schedule whatever the answers, each waiting for
 * its certificate, every certificate received kept) while validators are killed and restarted
 * (chaos.ts). The rate is `--rate`, or half the single-record peak measured first on the same
 * cluster (the rate the bench's latency phase uses). Afterwards the network must converge, agree
 * at every height, still serve every certificate handed out and hold every certified record on
 * every validator. Prints the figures and returns 1 on any violation.
 */
import { Rng } from '../lib/rng.js'
import { waitFor } from '../lib/wait-for.js'
import type { BenchArgs } from './args.js'
import { CHAOS, runChaos } from './chaos.js'
import { merge, type ClientPool } from './client-pool.js'
import { withBenchCluster } from './cluster-lifecycle.js'
import type { PhaseResult, Target } from './load-protocol.js'
import { PROFILES } from './profiles.js'
import { log, Report } from './report.js'
import { anchorHash, randomHash, serviceStatus, type ServiceStatus } from './service-requests.js'
import { certificatesNotServed, chainMismatches, convergedHeight, invalidCertificates, recordsMissingOnValidators } from './soak-checks.js'
import { percentile, round, sortedCopy } from './stats.js'
import { summaryTable } from './table.js'
import { waitIdle } from './validators-http.js'

const CLIENTS = 2
const CONVERGE_TIMEOUT_MS = 120_000
/** The peak phase: the bench's short single-record phase (64 requests in flight that do not wait), over a longer window. */
const PEAK = { concurrency: PROFILES.short.singleConcurrency, warmupMs: PROFILES.short.warmupMs, measureMs: 5000 }
/** Time for a phase command to reach every client before the common start. */
const START_LEAD_MS = 300
/** The soak's rate rises from zero over this long (a jump from idle would measure the pipeline starting up). */
const RAMP_MS = 2000
/**
 * Requests in flight, over all clients. Each holds a connection, and the service (its default
 * `http.maxConnections`, which the bench's cluster keeps) closes those beyond 1,024 at once: the
 * clients keep below it, leaving room for the bench's own requests. As many as that, whatever the
 * rate, so a latency of seconds under a kill shows as latency; a request due while its client is
 * at the bound is not sent and counts as dropped.
 */
const MAX_IN_FLIGHT = 900
/** Connections each client opens before the load, for this many seconds of its requests (see bench-phases.ts, latencyPhase). */
const CONNECTIONS_S = 2

const share = (total: number, parts: number, i: number): number => Math.floor(total / parts) + (i < total % parts ? 1 : 0)
/** Clock waits for a window's edges: the window's own timing, not a condition. */
const sleepUntil = async (at: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, Math.max(0, at - Date.now()))) }

async function countersAt (target: Target, at: number): Promise<{ at: number, status: ServiceStatus }> {
  await sleepUntil(at)
  const sent = Date.now()
  const status = await serviceStatus(target)
  return { at: (sent + Date.now()) / 2, status }
}

/**
 * Records/s the service certifies under a closed loop of single-record requests that do not wait
 * (as the bench's single phase), read from its counters over the window; then waits until that
 * backlog is certified and the validators are idle, so the soak starts on an empty pipeline.
 */
async function singlePeak (pool: ClientPool, target: Target, nodeUrls: string[]): Promise<number> {
  const startAt = Date.now() + START_LEAD_MS
  const window = { startAt, measureFrom: startAt + PEAK.warmupMs, measureTo: startAt + PEAK.warmupMs + PEAK.measureMs }
  log(`soak: single-record peak, ${PEAK.concurrency} requests in flight (wait=false), ${PEAK.measureMs} ms`)
  const running = pool.run(target, i => ({ kind: 'single', concurrency: share(PEAK.concurrency, pool.size, i), window }))
  running.catch(() => undefined)
  const from = await countersAt(target, window.measureFrom)
  const to = await countersAt(target, window.measureTo)
  const r = merge(await running)
  const perS = (to.status.certified - from.status.certified) / ((to.at - from.at) / 1000)
  log(`soak: peak: ${round(perS)} records/s certified; ${r.ok} accepted, ${r.failures} failed${r.firstFailure !== undefined ? ` (first: ${r.firstFailure})` : ''}`)
  await waitFor('the service to certify the peak phase\'s backlog', async () => {
    const s = await serviceStatus(target)
    return s.certified >= s.stored && s.inFlight === 0 && s.queued === 0 ? true : undefined
  }, 120_000, 100)
  await waitIdle(nodeUrls)
  return perS
}

export async function runSoak (args: BenchArgs): Promise<number> {
  const n = args.validators[0] as number
  const report = new Report()
  const emit = (metric: string, value: number, unit: string, extra: Record<string, unknown> = {}): void => {
    report.emit({ metric, value: round(value), unit, validators: n, ...extra })
  }
  log(`soak: ${n} validators, ${args.minutes} min, seed ${args.seed} (replay with --seed ${args.seed})`)
  const violations: string[] = []
  await withBenchCluster(n, CLIENTS, async ({ cluster, pool, rss }) => {
    const target = { serviceUrl: cluster.serviceUrl, apiKey: cluster.apiKey }
    const first = await anchorHash(target, randomHash())
    if (first.status !== 201) throw new Error(`the first record was not certified: ${first.error ?? `status ${first.status}`}`)
    let ratePerS = args.rate
    if (ratePerS === undefined) {
      const peak = await singlePeak(pool, target, cluster.nodeUrls)
      emit('soak_peak_single_per_s', peak, 'records/s', { concurrency: PEAK.concurrency, measure_ms: PEAK.measureMs, source: 'service counters' })
      if (!(peak > 0)) throw new Error('nothing was certified in the peak phase: no rate to soak at')
      ratePerS = peak / 2
    }
    const perClient = ratePerS / CLIENTS
    const maxInFlight = Math.floor(MAX_IN_FLIGHT / CLIENTS)
    const opened = merge(await pool.run(target, () => ({ kind: 'connect', count: Math.min(maxInFlight, Math.ceil(perClient * CONNECTIONS_S)) })))
    if (opened.failures > 0) log(`soak: opening connections: ${opened.failures} failed (first: ${opened.firstFailure ?? '?'})`)

    const startAt = Date.now() + START_LEAD_MS
    log(`soak: open-loop load at ${round(ratePerS)} requests/s (${args.rate === undefined ? 'half the single-record peak' : '--rate'}), half documents, half hashes, up to ${maxInFlight} in flight per client`)
    const loading = pool.run(target, i => ({ kind: 'soak', ratePerS: perClient, startAt: startAt + (i * 1000) / ratePerS, rampUntil: startAt + RAMP_MS, maxInFlight }))
    // A client that dies mid-soak is reported when the load is collected, not as an unhandled rejection.
    loading.catch(() => undefined)
    const until = startAt + args.minutes * 60_000
    const chaos = await runChaos(cluster, new Rng(args.seed), until)
    // The schedule stops killing when the next kill would fall after the end; the load runs on to it.
    await sleepUntil(until)
    pool.stop()
    const stoppedAt = Date.now()
    const load: PhaseResult = merge(await loading)
    const loadSeconds = (stoppedAt - startAt) / 1000
    log(`soak: load stopped: ${load.requests} sent, ${load.dropped} not sent (in-flight bound), ${load.ok} certified, ${load.pending} pending, ${load.failures} failed${load.firstFailure !== undefined ? ` (first: ${load.firstFailure})` : ''}`)

    const checking = Date.now()
    const height = await convergedHeight(cluster.nodeUrls, CONVERGE_TIMEOUT_MS)
    const convergeMs = Date.now() - checking
    const { mismatches, records } = await chainMismatches(cluster.nodeUrls, height)
    const notServed = await certificatesNotServed(target, load.ids, load.certified)
    const invalid = invalidCertificates(cluster.genesis, load.ids, load.certified)
    const notOnValidators = await recordsMissingOnValidators(cluster.nodeUrls, load.ids)
    const checksMs = Date.now() - checking
    await rss.stop()

    const latencies = sortedCopy(load.latenciesMs)
    emit('soak_offered_per_s', (load.requests + load.dropped) / loadSeconds, 'requests/s', { target_per_s: round(ratePerS), rate_from: args.rate === undefined ? 'half the single-record peak' : '--rate', sent: load.requests, dropped: load.dropped, late_sends: load.lateSends, ramp_ms: RAMP_MS, seconds: round(loadSeconds) })
    emit('soak_certified', load.ok, 'records', { per_s: round(load.ok / loadSeconds), pending: load.pending, failures: load.failures })
    emit('soak_certified_per_s', load.ok / loadSeconds, 'records/s', { of_offered: round(load.ok / Math.max(1, load.requests + load.dropped), 3) })
    emit('soak_pending', load.pending, 'requests', { note: 'answered 202: stored, no certificate within the service\'s wait' })
    emit('soak_failed', load.failures, 'requests', { first: load.firstFailure })
    for (const q of [50, 99]) emit(`soak_latency_p${q}_ms`, percentile(latencies, q), 'ms', { samples: latencies.length, max_ms: latencies[latencies.length - 1] })
    emit('soak_kills', chaos.kills, 'kills', { between_kills_ms: CHAOS.betweenKillsMs, down_ms: CHAOS.downMs, seed: args.seed })
    emit('soak_heights', height, 'blocks', { records_on_chain: records })
    emit('soak_mismatches', mismatches.length, 'heights', { first: mismatches.slice(0, 5) })
    emit('soak_missing', notServed.length + notOnValidators.length, 'records', { not_served: notServed.length, not_on_validators: notOnValidators.length, first: [...notServed, ...notOnValidators].slice(0, 5) })
    emit('soak_invalid_certificates', invalid.length, 'certificates', { first: invalid.slice(0, 5) })
    const catchUp = sortedCopy(chaos.catchUpMs)
    if (catchUp.length > 0) {
      emit('soak_catchup_ms_p50', percentile(catchUp, 50), 'ms', { restarts: catchUp.length })
      emit('soak_catchup_ms_max', catchUp[catchUp.length - 1] as number, 'ms', { restarts: catchUp.length })
      emit('soak_restart_ready_ms_max', Math.max(...chaos.restartMs), 'ms')
    }
    emit('soak_catchup_timeouts', chaos.catchUpTimeouts, 'restarts')
    emit('soak_converge_ms', convergeMs, 'ms')
    emit('soak_checks_ms', checksMs, 'ms', { certificates: load.ids.length, validators: n })
    const nodeRss = Array.from({ length: n }, (_, i) => round(rss.maxMiB.get(`node-${i}`) ?? Number.NaN))
    emit('soak_node_rss_mb_max', Math.max(...nodeRss), 'MiB', { per_node: nodeRss })

    if (mismatches.length > 0) violations.push(`validators disagree at ${mismatches.length} heights (first ${mismatches.slice(0, 5).join(', ')})`)
    if (notServed.length > 0) violations.push(`${notServed.length} certificates no longer served as received (first ${notServed[0]})`)
    if (notOnValidators.length > 0) violations.push(`${notOnValidators.length} certified records missing on validators (first ${notOnValidators[0]})`)
    if (invalid.length > 0) violations.push(`${invalid.length} certificates received do not verify (first ${invalid[0]})`)
    if (chaos.catchUpTimeouts > 0) violations.push(`${chaos.catchUpTimeouts} restarted validators did not catch up within ${CHAOS.catchUpTimeoutMs} ms`)
    if (load.ok === 0) violations.push('nothing was certified during the soak')
  })
  for (const v of violations) report.note(`VIOLATION: ${v}`)
  process.stdout.write('\n' + summaryTable(report, `trustnet soak: ${args.minutes} min, seed ${args.seed}: ${violations.length === 0 ? 'no violations' : `${violations.length} violations`}`))
  return violations.length === 0 ? 0 : 1
}

/**
 * `npm run bench -- --soak [--minutes N]`: a cluster under steady load from client processes
 * (documents and hashes, every certificate received kept) while validators are killed and
 * restarted (chaos.ts). Afterwards the network must converge, agree at every height, still serve
 * every certificate handed out and hold every certified record on every validator. Prints the
 * figures and returns 1 on any violation.
 */
import { Rng } from '../lib/rng.js'
import type { BenchArgs } from './args.js'
import { CHAOS, runChaos } from './chaos.js'
import { merge } from './client-pool.js'
import { withBenchCluster } from './cluster-lifecycle.js'
import type { PhaseResult } from './load-protocol.js'
import { log, Report } from './report.js'
import { certificatesNotServed, chainMismatches, convergedHeight, invalidCertificates, recordsMissingOnValidators } from './soak-checks.js'
import { percentile, round, sortedCopy } from './stats.js'
import { summaryTable } from './table.js'

const CLIENTS = 2
const CONCURRENCY_PER_CLIENT = 4
const CONVERGE_TIMEOUT_MS = 120_000

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
    const started = Date.now()
    const loading = pool.run(target, () => ({ kind: 'soak', concurrency: CONCURRENCY_PER_CLIENT }))
    // A client that dies mid-soak is reported when the load is collected, not as an unhandled rejection.
    loading.catch(() => undefined)
    const chaos = await runChaos(cluster, new Rng(args.seed), started + args.minutes * 60_000)
    pool.stop()
    const load: PhaseResult = merge(await loading)
    const loadSeconds = (Date.now() - started) / 1000
    log(`soak: load stopped: ${load.ok} certified, ${load.pending} pending, ${load.failures} failed${load.firstFailure !== undefined ? ` (first: ${load.firstFailure})` : ''}`)

    const converging = Date.now()
    const height = await convergedHeight(cluster.nodeUrls, CONVERGE_TIMEOUT_MS)
    const convergeMs = Date.now() - converging
    const { mismatches, records } = await chainMismatches(cluster.nodeUrls, height)
    const notServed = await certificatesNotServed(target, load.ids, load.certified)
    const invalid = invalidCertificates(cluster.genesis, load.ids, load.certified)
    const notOnValidators = await recordsMissingOnValidators(cluster.nodeUrls, load.ids)
    await rss.stop()

    emit('soak_certified', load.ok, 'records', { per_s: round(load.ok / loadSeconds), pending: load.pending, failures: load.failures })
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

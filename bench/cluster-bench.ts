/**
 * One validator count, measured end to end: start a cluster of real processes, run the phases
 * (throughput single and batch, latency at half the single-record peak, verify requests), sample
 * every validator's memory throughout, then measure stored bytes per record on chain and, with the
 * cluster gone, offline verification of the certificates collected. The cluster and the client
 * processes are torn down whatever happens (withBenchCluster).
 */
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { nodeHome } from '../cli/init.js'
import type { ProcessCluster } from '../cli/process-cluster.js'
import { batchPhase, emitThroughput, latencyPhase, replicaBound, singleRecordPhase, verifyPhase, warmUp, type Baselines, type PhaseContext } from './bench-phases.js'
import { clusterPids, withBenchCluster } from './cluster-lifecycle.js'
import { CpuMeter } from './cpu-meter.js'
import { ed25519VerifyRate } from './baselines.js'
import { offlineVerifyRate } from './offline-verify.js'
import { dirBytes, type RssSampler } from './process-metrics.js'
import type { Profile } from './profiles.js'
import { log, type Report } from './report.js'
import { round } from './stats.js'
import { entriesOnChain, waitIdle } from './validators-http.js'

async function emitResources (ctx: PhaseContext, cluster: ProcessCluster, rss: RssSampler): Promise<void> {
  await rss.stop()
  const perNode = (peaks: Map<string, number>): number[] => Array.from({ length: cluster.n }, (_, i) => round(peaks.get(`node-${i}`) ?? Number.NaN))
  const nodeRss = perNode(rss.maxMiB)
  const nodePrivate = perNode(rss.maxPrivateMiB)
  ctx.report.emit({ metric: 'node_rss_mb_max', value: Math.max(...nodeRss), unit: 'MiB', validators: ctx.validators, per_node: nodeRss })
  ctx.report.emit({ metric: 'node_private_mb_max', value: Math.max(...nodePrivate), unit: 'MiB', validators: ctx.validators, per_node: nodePrivate })
  ctx.report.emit({ metric: 'service_rss_mb_max', value: round(rss.maxMiB.get('service') ?? Number.NaN), unit: 'MiB', validators: ctx.validators })
  const height = await waitIdle(cluster.nodeUrls)
  const records = await entriesOnChain(cluster.nodeUrls[0] as string, height)
  const bytes = await Promise.all(Array.from({ length: cluster.n }, async (_, i) => await dirBytes(join(nodeHome(cluster.dir, i), 'data'))))
  log(`${ctx.validators} validators: ${records} records in ${height} blocks; data dirs ${bytes.map(b => round(b / 2 ** 20)).join(', ')} MiB`)
  if (records === 0) throw new Error('no records on chain: cannot measure bytes per record')
  ctx.report.emit({ metric: 'node_bytes_per_record', value: round(Math.max(...bytes) / records), unit: 'B/record', validators: ctx.validators, records, height, per_node: bytes.map(b => round(b / records)) })
}

export async function benchCluster (validators: number, profile: Profile, report: Report, baselines: Baselines): Promise<void> {
  log(`--- ${validators} validators (${profile.name}) ---`)
  report.emit({ metric: 'replica_bound_records_per_s', value: round(replicaBound(baselines, validators)), unit: 'records/s', validators, cores: availableParallelism(), validator_record_path_us: round(baselines.recordPathUs) })
  const { result: certificates, cluster } = await withBenchCluster(validators, profile.clients, async ({ cluster, pool, rss }) => {
    const cpu = new CpuMeter(() => new Map([...clusterPids(cluster), ...pool.pids.map((pid, i) => [`client-${i}`, pid] as const)]))
    const ctx: PhaseContext = { pool, target: { serviceUrl: cluster.serviceUrl, apiKey: cluster.apiKey }, nodeUrls: cluster.nodeUrls, validators, profile, report, baselines, cpu }
    await warmUp(ctx)
    const single = await singleRecordPhase(ctx)
    if (single.perS <= 0) throw new Error('no record was certified in the single-record phase')
    const batch = profile.batch ? await batchPhase(ctx) : undefined
    const paced = await latencyPhase(ctx, single.perS / 2)
    if (profile.verify) await verifyPhase(ctx)
    await emitResources(ctx, cluster, rss)
    // Single-record requests do not wait for certificates: those verified offline come from these.
    return [...(batch?.certificates ?? []), ...paced.certificates]
  })
  // The cluster is gone: the verification below has the core to itself.
  const perS = offlineVerifyRate(cluster.genesis, certificates, profile.offlineVerifyMs)
  // Signature checks measured again right beside it: the machine's speed drifts over a run, and
  // the ratio must compare the two under the same conditions.
  const ed25519PerS = ed25519VerifyRate(profile.offlineVerifyMs)
  const blocks = new Set(certificates.map(c => (c as { header: { height: number } }).header.height)).size
  // Each certificate of its own commit costs a quorum of signature checks: the most there can be is ed25519 verifications/s / quorum.
  const quorum = Math.floor((2 * validators) / 3) + 1
  emitThroughput({ report, baselines }, 'offline_verify_per_s', perS, 'certificates/s', validators, {
    certificates: certificates.length, blocks, commit_checks: 'every certificate', quorum, ed25519_verify_per_s: round(ed25519PerS), of_ed25519_per_quorum: round(perS * quorum / ed25519PerS, 3)
  })
  const sharedPerS = offlineVerifyRate(cluster.genesis, certificates, profile.offlineVerifyMs, { rememberCommits: true })
  emitThroughput({ report, baselines }, 'offline_verify_per_s_shared_commits', sharedPerS, 'certificates/s', validators, { certificates: certificates.length, blocks, commit_checks: 'once per block' })
}

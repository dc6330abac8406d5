/**
 * Starting and stopping the bench's clusters of real processes (validators and a service from the
 * compiled CLI, via the e2e ProcessCluster), and naming their processes for the memory sampler.
 */
import { ProcessCluster } from '../cli/process-cluster.js'
import { onInterrupt } from './cleanup.js'
import { ClientPool } from './client-pool.js'
import { RssSampler } from './process-metrics.js'
import { log } from './report.js'

/** What a bench run gets while its cluster is up: the cluster, its load clients and its memory sampler (already sampling). */
export interface BenchCluster { cluster: ProcessCluster, pool: ClientPool, rss: RssSampler }

/**
 * Runs `body` against a fresh cluster of `validators` with `clients` load-client processes and
 * every process's memory sampled. Everything is torn down afterwards, also when `body` throws or
 * the bench is interrupted. The cluster object stays readable (its genesis, say) after `body`.
 */
export async function withBenchCluster<T> (validators: number, clients: number, body: (bench: BenchCluster) => Promise<T>): Promise<{ result: T, cluster: ProcessCluster }> {
  const cluster = await startCluster(validators)
  let pool: ClientPool | undefined
  const teardown = async (): Promise<void> => { await pool?.close(); await stopCluster(cluster) }
  const done = onInterrupt(teardown)
  const rss = new RssSampler(() => clusterPids(cluster))
  try {
    rss.start()
    pool = await ClientPool.start(clients)
    return { result: await body({ cluster, pool, rss }), cluster }
  } finally {
    await rss.stop().catch(() => undefined)
    await teardown()
    done()
  }
}

export async function startCluster (validators: number): Promise<ProcessCluster> {
  const cluster = await ProcessCluster.create({
    validators,
    // A batch under load can take longer than the default wait; an early 202 would undercount it.
    // The load clients stand for many clients but share one key: the door's per-client bounds
    // (requests in flight, waiting, per minute) would measure themselves instead of the system.
    serviceConfig: { certificateWaitMs: 60_000, limits: { inFlightPerClient: 100_000, queuedPerClient: 1_000_000, pendingPerClient: 100_000_000, rate: { max: 100_000_000 } } },
    env: { TRUSTNET_LOG: process.env.TRUSTNET_LOG ?? 'warn' }
  })
  const started = Date.now()
  try {
    // The service dials validators until they answer, so both can start at once.
    await Promise.all([cluster.startNodes(), cluster.startService()])
  } catch (err) {
    await cluster.destroy()
    throw err
  }
  log(`${validators} validators and a service up in ${Date.now() - started} ms (${cluster.dir})`)
  return cluster
}

/**
 * SIGTERM everything first (a profiler started with TRUSTNET_EXEC_ARGV=--cpu-prof writes its file
 * only on a clean exit), then destroy(): it kills whatever is left and removes the directory.
 */
export async function stopCluster (cluster: ProcessCluster, graceMs = 10_000): Promise<void> {
  const graceful = Promise.all([cluster.stopService('SIGTERM'), ...cluster.nodes.map(async (_, i) => await cluster.stopNode(i, 'SIGTERM'))])
  let timer: NodeJS.Timeout | undefined
  await Promise.race([graceful, new Promise(resolve => { timer = setTimeout(resolve, graceMs) })]).catch(() => undefined)
  clearTimeout(timer)
  await cluster.destroy()
}

/** Slot -> pid of each validator (and the service), read afresh so restarted processes are followed. */
export function clusterPids (cluster: ProcessCluster): Map<string, number | undefined> {
  const pids = new Map<string, number | undefined>(cluster.nodes.map((p, i) => [`node-${i}`, p?.pid]))
  pids.set('service', cluster.service?.pid)
  return pids
}

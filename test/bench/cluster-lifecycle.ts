/**
 * Starting and stopping the bench's clusters of real processes (validators and a service from the
 * compiled CLI, via the e2e ProcessCluster), and naming their processes for the memory sampler.
 */
import { ProcessCluster } from '../helpers/process-cluster.js'
import { log } from './report.js'

export async function startCluster (validators: number): Promise<ProcessCluster> {
  const cluster = await ProcessCluster.create({
    validators,
    // A batch under load can take longer than the default wait; an early 202 would undercount it.
    serviceConfig: { certificateWaitMs: 60_000 },
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

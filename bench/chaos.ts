/**
 * The soak's fault schedule: every few seconds a random validator is killed with SIGKILL, stays
 * down for a random short while, is restarted on its data, and must catch up with the others
 * before the next kill, so at most one validator (f = 1 for n = 4) is ever down or behind. Delays
 * come from a seeded generator, so a schedule can be replayed from its seed.
 */
import type { ProcessCluster } from '../cli/process-cluster.js'
import type { Rng } from '../lib/rng.js'
import { log } from './report.js'
import { validatorStatus } from './validators-http.js'
import { waitFor } from '../lib/wait-for.js'

export interface ChaosStats {
  kills: number
  /** Restart to ready line, per restart. */
  restartMs: number[]
  /** Ready to reaching the height the others had at that moment, per restart. */
  catchUpMs: number[]
  catchUpTimeouts: number
}

export const CHAOS = {
  betweenKillsMs: [2000, 5000],
  downMs: [200, 3000],
  catchUpTimeoutMs: 60_000
} as const

/** The chaos schedule's own timing (like a paced load's): the one kind of wait that is for the clock. */
const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

async function heightOf (url: string): Promise<number> {
  return (await validatorStatus(url)).height
}

/** Kill and restart validators until `until` (epoch ms); every killed validator is running again on return. */
export async function runChaos (cluster: ProcessCluster, rng: Rng, until: number): Promise<ChaosStats> {
  const stats: ChaosStats = { kills: 0, restartMs: [], catchUpMs: [], catchUpTimeouts: 0 }
  for (;;) {
    const wait = rng.int(...CHAOS.betweenKillsMs)
    if (Date.now() + wait >= until) break
    await pause(wait)
    const victim = rng.int(0, cluster.n - 1)
    const down = rng.int(...CHAOS.downMs)
    await cluster.stopNode(victim, 'SIGKILL')
    stats.kills++
    log(`soak: killed validator ${victim} (SIGKILL), restarting in ${down} ms`)
    await pause(down)
    const restarting = Date.now()
    await cluster.startNode(victim)
    stats.restartMs.push(Date.now() - restarting)
    const others = cluster.nodeUrls.filter((_, i) => i !== victim)
    const target = Math.max(...await Promise.all(others.map(heightOf)))
    const ready = Date.now()
    try {
      await waitFor(`validator ${victim} back at height ${target}`, async () => await heightOf(cluster.nodeUrls[victim] as string) >= target ? true : undefined, CHAOS.catchUpTimeoutMs, 50)
      stats.catchUpMs.push(Date.now() - ready)
    } catch (err) {
      stats.catchUpTimeouts++
      log(`soak: ${(err as Error).message}`)
    }
  }
  return stats
}

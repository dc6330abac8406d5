/**
 * The per-phase report: what the phase set, and what the network did under it: blocks committed
 * and entries certified per second, latency from request to certificate (p50, p99) of the
 * entries certified during the phase, each validator's height at its end, whether all validators
 * agree on every height, and how many entries certified by then are no longer on the chain or
 * handed out by the service. Printed as a table or as JSON lines.
 */
import type { Entry } from './load.js'
import type { Phase } from './scenario.js'
import type { Tip } from './chain-check.js'

export interface PhaseWindow {
  phase: Phase
  rate: number
  startedAt: number
  endedAt: number
  startTips: Array<Tip | undefined>
  endTips: Array<Tip | undefined>
  requestsFailed: number
  /** Sends skipped because too many requests were waiting (see load.ts). */
  sendsSkipped: number
}

export interface PhaseReport {
  phase: string
  seconds: number
  partition: string
  lossPercent: number
  rateMbit: number | null
  delayMs: number
  loadPerSec: number
  commits: number
  commitsPerSec: number
  certified: number
  certifiedPerSec: number
  p50Ms: number | null
  p99Ms: number | null
  failedRequests: number
  skippedSends: number
  heights: Array<number | null>
  agree: boolean
  lost: number
}

export function percentile (sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))
  return sorted[rank] as number
}

const maxHeight = (tips: Array<Tip | undefined>): number => Math.max(0, ...tips.map(t => t?.height ?? 0))

export const describePartition = (partition: number[][] | undefined): string => partition === undefined ? '-' : partition.map(g => g.join(',')).join('|')

/** Figures of one phase. `agree` and `lost` come from the checks after the run. */
export function phaseReport (w: PhaseWindow, entries: Iterable<Entry>, agree: boolean, lost: number): PhaseReport {
  const seconds = (w.endedAt - w.startedAt) / 1000
  const latencies: number[] = []
  for (const e of entries) {
    if (e.certifiedAt !== undefined && e.certifiedAt >= w.startedAt && e.certifiedAt < w.endedAt) latencies.push(e.certifiedAt - e.sentAt)
  }
  latencies.sort((a, b) => a - b)
  const commits = Math.max(0, maxHeight(w.endTips) - maxHeight(w.startTips))
  const round = (x: number | null): number | null => x === null ? null : Math.round(x)
  return {
    phase: w.phase.name,
    seconds: Math.round(seconds * 10) / 10,
    partition: describePartition(w.phase.partition),
    lossPercent: w.phase.lossPercent,
    rateMbit: w.phase.rateMbit ?? null,
    delayMs: w.phase.delayMs,
    loadPerSec: w.rate,
    commits,
    commitsPerSec: Math.round(commits / seconds * 10) / 10,
    certified: latencies.length,
    certifiedPerSec: Math.round(latencies.length / seconds * 10) / 10,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    failedRequests: w.requestsFailed,
    skippedSends: w.sendsSkipped,
    heights: w.endTips.map(t => t?.height ?? null),
    agree,
    lost
  }
}

const COLUMNS: Array<[string, (r: PhaseReport) => string]> = [
  ['phase', r => r.phase],
  ['s', r => String(r.seconds)],
  ['partition', r => r.partition],
  ['loss%', r => String(r.lossPercent)],
  ['Mbit/s', r => r.rateMbit === null ? '-' : String(r.rateMbit)],
  ['delay ms', r => String(r.delayMs)],
  ['load/s', r => String(r.loadPerSec)],
  ['commits/s', r => String(r.commitsPerSec)],
  ['certified/s', r => String(r.certifiedPerSec)],
  ['p50 ms', r => r.p50Ms === null ? '-' : String(r.p50Ms)],
  ['p99 ms', r => r.p99Ms === null ? '-' : String(r.p99Ms)],
  ['failed', r => String(r.failedRequests)],
  ['skipped', r => String(r.skippedSends)],
  ['heights', r => r.heights.map(h => h ?? '?').join(',')],
  ['agree', r => r.agree ? 'yes' : 'NO'],
  ['lost', r => String(r.lost)]
]

export function reportTable (rows: PhaseReport[]): string {
  const cells = [COLUMNS.map(c => c[0]), ...rows.map(r => COLUMNS.map(c => c[1](r)))]
  const widths = COLUMNS.map((_, k) => Math.max(...cells.map(row => (row[k] as string).length)))
  return cells.map(row => row.map((cell, k) => cell.padEnd(widths[k] as number)).join('  ').trimEnd()).join('\n') + '\n'
}

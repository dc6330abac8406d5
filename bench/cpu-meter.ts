/**
 * CPU time of the bench's processes over a measured window, read from Linux's /proc: per process
 * (validators, the service, the load clients, every thread of each) and for the whole machine.
 * Divided by the records certified in the window it is the CPU a record costs, which is what
 * bounds throughput on a machine these processes share: 2 cores give 2 s of CPU per second.
 */
import { readFile } from 'node:fs/promises'

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ, the same on every architecture Node runs on). */
const TICKS_PER_S = 100

export interface CpuSample {
  /** Wall clock of the sample, ms. */
  at: number
  /** slot -> CPU seconds the process has used since it started (user + system, all threads). */
  processes: Map<string, number>
  /** Ticks of the whole machine since boot: busy (neither idle nor waiting for I/O) and all. */
  machine: { busy: number, total: number }
}

export interface CpuUse {
  seconds: number
  /** slot -> CPU seconds used between the two samples; a slot missing from either sample is left out. */
  processes: Map<string, number>
  /** Share of all the machine's cores that was busy between the samples, 0..1, whoever used it. */
  machineBusy: number
}

/** CPU seconds (user + system, all threads) a live process has used; undefined if it is gone. */
export async function processCpuSeconds (pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (stat === undefined) return undefined
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Fields 14 and 15 of proc(5), utime and stime, are the 12th and 13th after the name.
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_S : undefined
}

/** The machine's busy and total ticks since boot, over every core (the first line of /proc/stat). */
export async function machineTicks (): Promise<{ busy: number, total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? ''
  const [label, ...counts] = line.trim().split(/\s+/)
  if (label !== 'cpu' || counts.length < 5) throw new Error(`unexpected first line of /proc/stat: ${line}`)
  // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already in user.
  const ticks = counts.slice(0, 8).map(Number)
  const total = ticks.reduce((a, b) => a + b, 0)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
  return { busy: total - idle, total }
}

export class CpuMeter {
  /** `processes()` names the processes to read now (slot -> pid); it is called at every sample. */
  constructor (private readonly processes: () => Map<string, number | undefined>) {}

  async sample (): Promise<CpuSample> {
    const at = Date.now()
    const [machine, entries] = await Promise.all([
      machineTicks(),
      Promise.all([...this.processes()].map(async ([slot, pid]) => [slot, pid === undefined ? undefined : await processCpuSeconds(pid)] as const))
    ])
    const processes = new Map<string, number>()
    for (const [slot, seconds] of entries) if (seconds !== undefined) processes.set(slot, seconds)
    return { at, processes, machine }
  }
}

export function cpuBetween (from: CpuSample, to: CpuSample): CpuUse {
  const processes = new Map<string, number>()
  for (const [slot, end] of to.processes) {
    const start = from.processes.get(slot)
    // A process restarted in between (its CPU time began again) is not comparable.
    if (start !== undefined && end >= start) processes.set(slot, end - start)
  }
  const total = to.machine.total - from.machine.total
  return {
    seconds: (to.at - from.at) / 1000,
    processes,
    machineBusy: total > 0 ? (to.machine.busy - from.machine.busy) / total : 0
  }
}

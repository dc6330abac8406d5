/**
 * The bench's CPU meter: process CPU time read from /proc (also for a process whose name holds
 * spaces and parentheses), nothing for a process that is gone, and the differences it takes
 * between samples, leaving out processes that restarted or appeared in between.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { cpuBetween, CpuMeter, machineTicks, processCpuSeconds, type CpuSample } from '../../bench/cpu-meter.js'

/** Above Linux's largest pid_max (2^22): no process has it. */
const NO_SUCH_PID = 99_999_999

let child: ChildProcess | undefined

afterEach(async () => {
  if (child?.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  child = undefined
})

/** Spin until this process has used `seconds` more CPU (not wall time: a loaded machine may hold it off the CPU). */
function burnCpu (seconds: number): void {
  const start = process.cpuUsage()
  let x = 0
  for (;;) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + i)
    const used = process.cpuUsage(start)
    if ((used.user + used.system) / 1e6 >= seconds) break
  }
  expect(x).toBeGreaterThan(0)
}

describe('process CPU time', () => {
  it('grows by the CPU this process uses, as Node itself counts it', async () => {
    const before = await processCpuSeconds(process.pid)
    const usageBefore = process.cpuUsage()
    burnCpu(0.3)
    const usage = process.cpuUsage(usageBefore)
    const after = await processCpuSeconds(process.pid)
    expect(before).toBeDefined()
    expect(after).toBeDefined()
    const used = (after as number) - (before as number)
    expect(used).toBeGreaterThanOrEqual(0.25)
    // The kernel counts in ticks of 10 ms; the reads of /proc take a little CPU of their own.
    expect(Math.abs(used - (usage.user + usage.system) / 1e6)).toBeLessThan(0.05)
  })

  it('reads a process whose name holds spaces and parentheses', async () => {
    child = spawn(process.execPath, ['-e', 'process.title = "x) y (z"; process.stdout.write("ready"); setInterval(() => {}, 1000)'])
    await once(child.stdout as NodeJS.ReadableStream, 'data')
    const seconds = await processCpuSeconds(child.pid as number)
    expect(seconds).toBeGreaterThanOrEqual(0)
    expect(seconds).toBeLessThan(60)
  })

  it('gives nothing for a process that does not exist', async () => {
    expect(await processCpuSeconds(NO_SUCH_PID)).toBeUndefined()
  })

  it('samples only the processes that exist', async () => {
    const meter = new CpuMeter(() => new Map([['me', process.pid], ['gone', NO_SUCH_PID], ['unstarted', undefined]]))
    const sample = await meter.sample()
    expect([...sample.processes.keys()]).toEqual(['me'])
    expect(sample.machine.busy).toBeGreaterThan(0)
    expect(sample.machine.total).toBeGreaterThanOrEqual(sample.machine.busy)
  })
})

describe('machine ticks', () => {
  it('counts busy ticks within all ticks, and both grow', async () => {
    const a = await machineTicks()
    burnCpu(0.1)
    const b = await machineTicks()
    expect(a.busy).toBeLessThanOrEqual(a.total)
    expect(b.busy).toBeGreaterThan(a.busy)
    expect(b.total).toBeGreaterThan(a.total)
  })
})

describe('cpuBetween', () => {
  const sample = (at: number, processes: Record<string, number>, busy: number, total: number): CpuSample =>
    ({ at, processes: new Map(Object.entries(processes)), machine: { busy, total } })

  it('takes each process\'s difference and the machine\'s busy share', () => {
    const use = cpuBetween(sample(1000, { a: 5, b: 1 }, 300, 1000), sample(3000, { a: 6.5, b: 1.25 }, 600, 1400))
    expect(use.seconds).toBe(2)
    expect([...use.processes]).toEqual([['a', 1.5], ['b', 0.25]])
    expect(use.machineBusy).toBeCloseTo(0.75)
  })

  it('leaves out a process that restarted or was not there at the start', () => {
    const use = cpuBetween(sample(0, { restarted: 9, steady: 1 }, 0, 100), sample(1000, { restarted: 0.5, steady: 2, late: 3 }, 50, 200))
    expect([...use.processes]).toEqual([['steady', 1]])
  })
})

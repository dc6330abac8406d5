/**
 * One netsim run: build the namespaced network, start the validators and the service in it
 * (validators dialling each other through the relays), run the scenario's phases while driving
 * load through the service, then check the chains and the certificates handed out, and report
 * per phase. Everything it created is removed at the end, on error, and on SIGINT/SIGTERM.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { stopOnSignal } from '../../lib/signals.js'
import { readGenesis } from '../../node/config.js'
import { spawnChild } from '../cluster.js'
import { apiKeyPath, clusterPorts, genesisPath, initNetwork, nodeHome, serviceConfigPath } from '../init.js'
import { waitFor } from '../../lib/wait-for.js'
import { readChains, tips, tipsAgree } from './chain-check.js'
import { NetsimError } from './errors.js'
import { applyLink, describeCapabilities, probeCapabilities, relayDelays, type Capabilities } from './impairments.js'
import { LoadDriver, type Entry } from './load.js'
import { HOST_IP, SERVICE_IP, SERVICE_NS, validatorIp, validatorNs } from './names.js'
import { Relays, type Endpoint, type PolicyOf } from './relay.js'
import { phaseReport, type PhaseReport, type PhaseWindow } from './report.js'
import { sameSide, type Phase, type Scenario } from './scenario.js'
import { createTopology, destroyTopology, preflight, tempDirPrefix, type Topology } from './topology.js'

export interface NetsimOptions {
  scenario: Scenario
  basePort: number
  /** Keep the run's directory (configs, chains, logs) instead of removing it. */
  keep: boolean
  /** Progress lines (stderr). */
  log: (line: string) => void
}

export interface NetsimSummary {
  validators: number
  mechanism: string
  entries: number
  /** Certified after the last phase, while the load drained. */
  certifiedWhileDraining: number
  uncertified: number
  invalidCertificates: number
  lost: number
  forks: number[]
  seconds: number
  /** CPU this process spent (relays, load, checks): it shares the machine with the network it measures. */
  driverCpuSeconds: number
}

export interface NetsimResult { phases: PhaseReport[], summary: NetsimSummary, dir: string }

const DRAIN_MS = 60_000
/** Request logs at info would cost the shared CPU and fill the disk under load; warnings and errors still show. */
const CHILD_ENV = { TRUSTNET_LOG: process.env.TRUSTNET_LOG ?? 'warn' }
const CHILD_STOP_MS = 5_000
/** 128 + SIGINT, as shells report a command interrupted by Ctrl-C: the run did not finish. */
const INTERRUPTED_EXIT_CODE = 130

/** The relays' rule for a phase: the service's links are never impaired; validators' follow the phase. */
function policyFor (caps: Capabilities, phase: Phase | undefined): PolicyOf {
  return (a: Endpoint, b: number) => {
    if (a === 'service' || phase === undefined) return { delayMs: 0, held: false }
    return { delayMs: relayDelays(caps) ? phase.delayMs : 0, held: !sameSide(phase.partition, a, b) }
  }
}

function endpointOf (n: number) {
  return (address: string): Endpoint | undefined => {
    const ip = address.replace(/^::ffff:/, '')
    if (ip === SERVICE_IP) return 'service'
    for (let i = 0; i < n; i++) if (validatorIp(i) === ip) return i
    return undefined
  }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_MS)
  await exited
  clearTimeout(timer)
}

export async function runNetsim (options: NetsimOptions): Promise<NetsimResult> {
  const { scenario, basePort, log } = options
  await preflight()
  const caps = await probeCapabilities()
  const mechanism = describeCapabilities(caps)
  log(mechanism)
  const n = scenario.validators
  const ports = clusterPorts(basePort, n)
  const nodeUrls = ports.http.map((p, i) => `http://${validatorIp(i)}:${p}`)
  const dir = await mkdtemp(tempDirPrefix())
  const children: ChildProcess[] = []
  let topology: Topology | undefined
  let relays: Relays | undefined
  let load: LoadDriver | undefined

  let teardown: Promise<void> | undefined
  const tearDown = async (): Promise<void> => {
    teardown ??= (async () => {
      load?.stop()
      await Promise.all(children.map(stopChild))
      await relays?.stop()
      if (topology !== undefined) await destroyTopology(topology)
      if (!options.keep) await rm(dir, { recursive: true, force: true })
    })()
    await teardown
  }
  stopOnSignal(tearDown, 'netsim: interrupted; removing the namespaces, links, processes and files it made...', INTERRUPTED_EXIT_CODE)

  const began = performance.now()
  const cpuBefore = process.cpuUsage()
  try {
    topology = await createTopology(n)
    relays = new Relays({
      routes: ports.p2p.map((port, i) => ({ index: i, listen: { host: HOST_IP, port }, target: { host: validatorIp(i), port } })),
      endpointOf: endpointOf(n)
    })
    await relays.start()
    // Validators listen at their own address and are dialled at their relay on the host.
    await initNetwork({
      validators: n, out: dir, basePort, host: HOST_IP, chainId: 'netsim',
      // The run reads every block of every validator from the host's address.
      httpExempt: [HOST_IP],
      placement: { validators: Array.from({ length: n }, (_, i) => ({ listen: validatorIp(i), advertise: HOST_IP })), service: { listen: SERVICE_IP, advertise: SERVICE_IP } }
    })
    await mkdir(join(dir, 'logs'))
    log(`starting ${n} validators and the service in ${dir}`)
    const started = await Promise.all(Array.from({ length: n }, async (_, i) =>
      await spawnChild(['node', '--home', nodeHome(dir, i)], join(dir, 'logs', `node-${i}.log`), CHILD_ENV, ['ip', 'netns', 'exec', validatorNs(i)])))
    children.push(...started.map(s => s.child))
    const service = await spawnChild(['service', '--config', serviceConfigPath(dir)], join(dir, 'logs', 'service.log'), CHILD_ENV, ['ip', 'netns', 'exec', SERVICE_NS])
    children.push(service.child)
    const serviceUrl = service.ready.url as string
    const exited = watchExits(children, [...Array.from({ length: n }, (_, i) => `validator ${i}`), 'the service'], join(dir, 'logs'))
    const apiKey = (await readFile(apiKeyPath(dir), 'utf8')).trim()
    load = new LoadDriver(serviceUrl, apiKey, await readGenesis(genesisPath(dir)))

    await waitFor('every validator connected to every other', async () => (await Promise.all(nodeUrls.map(meshComplete(n)))).every(Boolean) ? true : undefined, 60_000, 200)
      .catch(err => { throw new NetsimError('NOT_READY', (err as Error).message) })
    await withTimeout(load.once(), 60_000, 'no certificate for a first entry within 60 s')
    log('network ready')

    const windows: PhaseWindow[] = []
    for (const phase of scenario.phases) {
      await setPhase(caps, relays, ports.http, n, phase)
      const rate = phase.load ?? scenario.load
      const failedBefore = load.counters.failedRequests
      const skippedBefore = load.counters.skipped
      const startTips = await tips(nodeUrls)
      const startedAt = performance.now()
      load.setRate(rate.rate, rate.batch)
      log(`phase ${phase.name}: ${phase.seconds} s`)
      await sleep(phase.seconds * 1000)
      const endedAt = performance.now()
      exited.check()
      const requestsFailed = load.counters.failedRequests - failedBefore
      const sendsSkipped = load.counters.skipped - skippedBefore
      windows.push({ phase, rate: rate.rate, startedAt, endedAt, startTips, endTips: await tips(nodeUrls), requestsFailed, sendsSkipped })
    }
    const phasesEnded = performance.now()
    await setPhase(caps, relays, ports.http, n, undefined)
    log('phases done; draining the load with every impairment lifted')
    await load.drain(DRAIN_MS)
    load.stop()
    exited.check()

    const finalTips = await waitFor('all validators at one height', async () => {
      const t = await tips(nodeUrls)
      return t.every(x => x !== undefined && x.height === t[0]?.height) ? t : undefined
    }, 30_000, 250).catch(async () => await tips(nodeUrls))
    const view = await readChains(nodeUrls, finalTips.map(t => t?.height ?? 0))
    const entries = [...load.entries.values()]
    const lostIds = await lostEntries(load, entries, view.hashes)
    const phases = windows.map(w => {
      const agree = w.endTips.every(t => t !== undefined) && tipsAgree(view, w.endTips)
      const lost = entries.filter(e => lostIds.has(e.id) && (e.certifiedAt as number) < w.endedAt).length
      return phaseReport(w, entries, agree, lost)
    })
    const summary: NetsimSummary = {
      validators: n,
      mechanism,
      entries: entries.length,
      certifiedWhileDraining: entries.filter(e => e.certifiedAt !== undefined && e.certifiedAt >= phasesEnded).length,
      uncertified: entries.filter(e => e.certifiedAt === undefined).length,
      invalidCertificates: load.counters.invalid,
      lost: lostIds.size,
      forks: view.forks,
      seconds: Math.round((performance.now() - began) / 100) / 10,
      driverCpuSeconds: Math.round((cpu => cpu.user + cpu.system)(process.cpuUsage(cpuBefore)) / 100_000) / 10
    }
    return { phases, summary, dir }
  } finally {
    await tearDown()
  }
}

/** A process of the network that exits during the run ends it: what follows would measure nothing. */
function watchExits (children: ChildProcess[], names: string[], logs: string): { check: () => void } {
  let gone: string | undefined
  children.forEach((c, i) => c.once('exit', (code, signal) => { gone ??= `${names[i] ?? 'a process'} exited (${code ?? signal}); see ${logs}` }))
  return { check: () => { if (gone !== undefined) throw new NetsimError('PROCESS_EXITED', gone) } }
}

async function withTimeout (work: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new NetsimError('NOT_READY', what)), ms) })
  try {
    await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Whether the validator at `url` is connected to all n-1 others. */
function meshComplete (n: number) {
  return async (url: string): Promise<boolean> => {
    const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })
    const status = await res.json() as { peers: string[], peerId: string, validators: Array<{ peerId: string }> }
    const connected = new Set(status.peers)
    return status.validators.filter(v => v.peerId !== status.peerId && connected.has(v.peerId)).length === n - 1
  }
}

async function setPhase (caps: Capabilities, relays: Relays, httpPorts: number[], n: number, phase: Phase | undefined): Promise<void> {
  relays.setPolicy(policyFor(caps, phase))
  const link = { lossPercent: phase?.lossPercent ?? 0, rateMbit: phase?.rateMbit, delayMs: phase?.delayMs ?? 0 }
  await Promise.all(Array.from({ length: n }, async (_, i) => await applyLink(caps, i, httpPorts[i] as number, link)))
}

/**
 * Certified entries that are lost: their block is not the one the validators agree on at its
 * height, or the service no longer hands out a valid certificate for them in that block.
 */
async function lostEntries (load: LoadDriver, entries: Entry[], chain: string[]): Promise<Set<string>> {
  const lost = new Set<string>()
  const certified = entries.filter(e => e.certifiedAt !== undefined && e.blockHash !== undefined)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < certified.length) {
      const e = certified[next++] as Entry
      const onChain = chain[(e.height as number) - 1] === e.blockHash
      if (!onChain || !(await load.stillCertified(e))) lost.add(e.id)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return lost
}

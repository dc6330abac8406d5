/**
 * The simulated network's plumbing: a bridge on the host (10.77.0.1), and for each validator and
 * the service a network namespace joined to it by a veth pair, with its own address. In each
 * validator's namespace a firewall admits traffic from the host (relays, the netsim driver) and
 * nothing from the other namespaces, so validators can reach each other only through the relays,
 * and an empty chain waits for the phase's packet-loss rule. Removing the namespaces removes
 * their veths, rules and qdiscs with them; `removeLeftovers` finds everything by its prefix.
 */
import { readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NetsimError } from './errors.js'
import { BRIDGE, HOST_IP, LOSS_CHAIN, NS_DEV, PREFIX, SERVICE_IP, SERVICE_NS, SUBNET_BITS, hostVeth, validatorIp, validatorNs } from './names.js'
import { attempt, inNs, run } from './sh.js'

export interface Topology {
  validators: number
  namespaces: string[]
}

/** Refuse to start unless root, with the tools at hand and nothing left from an earlier run. */
export async function preflight (): Promise<void> {
  if (process.platform !== 'linux') throw new NetsimError('NOT_ROOT', 'netsim needs Linux network namespaces')
  if (process.getuid?.() !== 0) throw new NetsimError('NOT_ROOT', 'netsim creates network namespaces: run it as root')
  await run('ip', ['-V'])
  await run('tc', ['-V'])
  await run('iptables', ['-V'])
  if (await attempt('ip', ['link', 'show', BRIDGE])) throw new NetsimError('LEFTOVERS', `${BRIDGE} exists: another run is active, or one was killed (trustnet netsim --cleanup removes its leftovers)`)
  if ((await namespacesWithPrefix()).length > 0) throw new NetsimError('LEFTOVERS', `namespaces named ${PREFIX}-* exist (trustnet netsim --cleanup removes them)`)
}

async function addNamespace (ns: string, ip: string): Promise<void> {
  await run('ip', ['netns', 'add', ns])
  await inNs(ns, 'ip', ['link', 'set', 'lo', 'up'])
  const peer = `${ns}p`
  await run('ip', ['link', 'add', hostVeth(ns), 'type', 'veth', 'peer', 'name', peer])
  await run('ip', ['link', 'set', peer, 'netns', ns])
  await inNs(ns, 'ip', ['link', 'set', peer, 'name', NS_DEV])
  await inNs(ns, 'ip', ['addr', 'add', `${ip}/${SUBNET_BITS}`, 'dev', NS_DEV])
  await inNs(ns, 'ip', ['link', 'set', NS_DEV, 'up'])
  await run('ip', ['link', 'set', hostVeth(ns), 'master', BRIDGE])
  await run('ip', ['link', 'set', hostVeth(ns), 'up'])
}

/** Only the host may talk to a validator; the loss chain comes first so it covers everything. */
async function validatorFirewall (ns: string): Promise<void> {
  await inNs(ns, 'iptables', ['-N', LOSS_CHAIN])
  await inNs(ns, 'iptables', ['-A', 'INPUT', '-j', LOSS_CHAIN])
  await inNs(ns, 'iptables', ['-A', 'INPUT', '-s', HOST_IP, '-j', 'ACCEPT'])
  await inNs(ns, 'iptables', ['-A', 'INPUT', '-s', `${HOST_IP}/${SUBNET_BITS}`, '-j', 'DROP'])
}

/** Build the network. On failure, whatever was made is removed again before the error is thrown. */
export async function createTopology (validators: number): Promise<Topology> {
  const topology: Topology = { validators, namespaces: [] }
  try {
    await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'])
    await run('ip', ['addr', 'add', `${HOST_IP}/${SUBNET_BITS}`, 'dev', BRIDGE])
    await run('ip', ['link', 'set', BRIDGE, 'up'])
    for (let i = 0; i < validators; i++) {
      topology.namespaces.push(validatorNs(i))
      await addNamespace(validatorNs(i), validatorIp(i))
      await validatorFirewall(validatorNs(i))
    }
    topology.namespaces.push(SERVICE_NS)
    await addNamespace(SERVICE_NS, SERVICE_IP)
  } catch (err) {
    await destroyTopology(topology)
    throw err
  }
  return topology
}

/** Processes still running in a namespace (started by us, or left by a killed run). */
async function killNamespacePids (ns: string): Promise<number> {
  const out = await run('ip', ['netns', 'pids', ns]).catch(() => '')
  const pids = out.split('\n').map(Number).filter(p => Number.isInteger(p) && p > 0)
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
  return pids.length
}

export async function destroyTopology (topology: Topology): Promise<void> {
  for (const ns of topology.namespaces) {
    await killNamespacePids(ns)
    // Deleting the namespace deletes its veth end (and so the pair), its rules and its qdiscs.
    await attempt('ip', ['netns', 'del', ns])
    await attempt('ip', ['link', 'del', hostVeth(ns)])
  }
  await attempt('ip', ['link', 'del', BRIDGE])
}

async function namespacesWithPrefix (): Promise<string[]> {
  const out = await run('ip', ['netns', 'list'])
  return out.split('\n').map(l => l.split(' ')[0] ?? '').filter(n => n.startsWith(`${PREFIX}-`))
}

async function linksWithPrefix (): Promise<string[]> {
  const out = await run('ip', ['-o', 'link', 'show'])
  // Lines read "12: tnsim-v0@if11: <...>": the name ends at '@' or ':'.
  return out.split('\n').map(l => /^\d+: ([^:@\s]+)/.exec(l)?.[1] ?? '').filter(n => n.startsWith(`${PREFIX}-`))
}

export const tempDirPrefix = (): string => join(tmpdir(), `${PREFIX}-`)

/** Remove everything a killed run may have left: its processes, namespaces, links and temp directories. */
export async function removeLeftovers (): Promise<string[]> {
  const removed: string[] = []
  for (const ns of await namespacesWithPrefix()) {
    const killed = await killNamespacePids(ns)
    await attempt('ip', ['netns', 'del', ns])
    removed.push(`namespace ${ns}${killed > 0 ? ` (${killed} processes killed)` : ''}`)
  }
  for (const link of await linksWithPrefix()) {
    if (await attempt('ip', ['link', 'del', link])) removed.push(`link ${link}`)
  }
  const dirs = (await readdir(tmpdir()).catch(() => [] as string[])).filter(d => d.startsWith(`${PREFIX}-`))
  for (const d of dirs) {
    await rm(join(tmpdir(), d), { recursive: true, force: true })
    removed.push(`directory ${join(tmpdir(), d)}`)
  }
  return removed
}

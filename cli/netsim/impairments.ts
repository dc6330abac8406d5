/**
 * A phase's impairments on the validators' links. Packet loss: netem's `loss` where the kernel
 * has netem, else an iptables `statistic` DROP rule in each validator's namespace (incoming
 * packets, except to its HTTP status port, which the driver reads). Bandwidth: `tc tbf` on both
 * ends of each validator's veth (what it receives, what it sends). Delay: netem on the
 * validator's egress where present, else the relays (see relay.ts) hold each chunk. Partitions
 * are the relays' job in both cases.
 */
import { LOSS_CHAIN, NS_DEV, PREFIX, hostVeth, validatorNs } from './names.js'
import { attempt, inNs, run } from './sh.js'

export interface Capabilities {
  /** tc's netem qdisc (delay, loss) is available in this kernel. */
  netem: boolean
}

export interface LinkImpairment {
  lossPercent: number
  rateMbit?: number
  delayMs: number
}

/** Try a netem qdisc on a throwaway veth pair (veths are needed anyway; the dummy driver may be missing). */
export async function probeCapabilities (): Promise<Capabilities> {
  const dummy = `${PREFIX}-probe`
  await attempt('ip', ['link', 'del', dummy])
  await run('ip', ['link', 'add', dummy, 'type', 'veth', 'peer', 'name', `${dummy}p`])
  try {
    return { netem: await attempt('tc', ['qdisc', 'add', 'dev', dummy, 'root', 'netem', 'delay', '1ms']) }
  } finally {
    await attempt('ip', ['link', 'del', dummy])
  }
}

/** tbf wants a bucket of at least one packet, and enough for the kernel's timer granularity. */
function tbfArgs (rateMbit: number): string[] {
  const bytesPerSecond = rateMbit * 125_000
  const burst = Math.max(32 * 1024, Math.round(bytesPerSecond / 100))
  return ['tbf', 'rate', `${Math.round(rateMbit * 1000)}kbit`, 'burst', String(burst), 'latency', '200ms']
}

function netemArgs (link: LinkImpairment): string[] {
  const args = ['netem', 'delay', `${link.delayMs}ms`]
  if (link.lossPercent > 0) args.push('loss', `${link.lossPercent}%`)
  if (link.rateMbit !== undefined) args.push('rate', `${Math.round(link.rateMbit * 1000)}kbit`)
  return args
}

/** Set validator i's link to `link`, replacing what the previous phase set. */
export async function applyLink (caps: Capabilities, i: number, httpPort: number, link: LinkImpairment): Promise<void> {
  const ns = validatorNs(i)
  // Incoming side (host end of the veth): the cap only.
  await attempt('tc', ['qdisc', 'del', 'dev', hostVeth(ns), 'root'])
  if (link.rateMbit !== undefined) await run('tc', ['qdisc', 'add', 'dev', hostVeth(ns), 'root', ...tbfArgs(link.rateMbit)])
  // Outgoing side (inside the namespace).
  await inNs(ns, 'tc', ['qdisc', 'del', 'dev', NS_DEV, 'root']).catch(() => '')
  await inNs(ns, 'iptables', ['-F', LOSS_CHAIN])
  if (caps.netem) {
    if (link.delayMs > 0 || link.lossPercent > 0 || link.rateMbit !== undefined) await inNs(ns, 'tc', ['qdisc', 'add', 'dev', NS_DEV, 'root', ...netemArgs(link)])
    return
  }
  if (link.rateMbit !== undefined) await inNs(ns, 'tc', ['qdisc', 'add', 'dev', NS_DEV, 'root', ...tbfArgs(link.rateMbit)])
  if (link.lossPercent > 0) {
    await inNs(ns, 'iptables', ['-A', LOSS_CHAIN, '-p', 'tcp', '!', '--dport', String(httpPort), '-m', 'statistic', '--mode', 'random', '--probability', String(link.lossPercent / 100), '-j', 'DROP'])
  }
}

/** Whether the relays must add the delay themselves. */
export const relayDelays = (caps: Capabilities): boolean => !caps.netem

export function describeCapabilities (caps: Capabilities): string {
  return caps.netem
    ? 'netem present: delay and loss by netem, caps by netem/tbf, partitions by the relays'
    : 'no netem in this kernel: delay by userspace relays, loss by iptables statistic, caps by tc tbf, partitions by the relays'
}


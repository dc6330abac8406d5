/**
 * Everything a netsim run creates on the host carries one fixed prefix (namespaces, links, temp
 * directories), so `trustnet netsim --cleanup` finds the leftovers of a run that was killed. One
 * run at a time per machine: the names and the 10.77.0.0/24 subnet are fixed.
 */
export const PREFIX = 'tnsim'
export const BRIDGE = `${PREFIX}-br`
export const SUBNET_BITS = 24
/** The host's side of the bridge: the netsim process (relays, load, checks) talks from here. */
export const HOST_IP = '10.77.0.1'
export const SERVICE_IP = '10.77.0.2'
/** Validators sit at 10.77.0.10 and up. */
export const MAX_VALIDATORS = 32

export const validatorIp = (i: number): string => `10.77.0.${10 + i}`
export const validatorNs = (i: number): string => `${PREFIX}-v${i}`
export const SERVICE_NS = `${PREFIX}-svc`
/** The host end of a namespace's veth pair has the namespace's name (links and namespaces are separate name spaces). */
export const hostVeth = (ns: string): string => ns
/** The namespace's end, named eth0 once inside. */
export const NS_DEV = 'eth0'
/** Chain in each validator's namespace holding the packet-loss rule of the current phase. */
export const LOSS_CHAIN = 'TNSIM-LOSS'

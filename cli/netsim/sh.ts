/** Runs the system tools netsim drives (ip, tc, iptables); a failure is a NetsimError with the tool's own words. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { NetsimError } from './errors.js'

const exec = promisify(execFile)

export async function run (cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { timeout: 30_000 })
    return stdout
  } catch (err) {
    const e = err as Error & { code?: string | number, stderr?: string }
    if (e.code === 'ENOENT') throw new NetsimError('MISSING_TOOL', `${cmd} is not installed`)
    throw new NetsimError('COMMAND_FAILED', `${cmd} ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`)
  }
}

/** run() that reports failure as false, for probes and for removing what may already be gone. */
export async function attempt (cmd: string, args: string[]): Promise<boolean> {
  return await run(cmd, args).then(() => true, () => false)
}

/** A command inside a network namespace. */
export async function inNs (ns: string, cmd: string, args: string[]): Promise<string> {
  return await run('ip', ['netns', 'exec', ns, cmd, ...args])
}

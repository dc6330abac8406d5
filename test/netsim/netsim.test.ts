/**
 * `trustnet netsim` end to end, as root: 4 validators and the service in network namespaces,
 * through the shipped scenario (a 2|2 partition and its healing, 10% loss, a 1 Mbit/s cap,
 * 100 ms of added delay), then an interrupted run and the clean-up of a killed one. Skipped with
 * the reason when not root or without `ip netns` and iptables.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { CLI_PATH } from '../../cli/cluster.js'
import { waitFor } from '../../lib/wait-for.js'
import type { PhaseReport } from '../../cli/netsim/report.js'
import type { NetsimSummary } from '../../cli/netsim/run.js'

const SCENARIO = fileURLToPath(new URL('../../cli/netsim/scenarios/impairments.json', import.meta.url))

function whyNot (): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root'
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['tc', ['-V']], ['iptables', ['-V']]] as const) {
    try { execFileSync(cmd, args, { stdio: 'ignore' }) } catch { return `\`${cmd} ${args.join(' ')}\` is not available (apt-get install iproute2 iptables)` }
  }
  return undefined
}

const reason = whyNot()
if (reason !== undefined) console.warn(`test/netsim/netsim.test.ts skipped: ${reason}; netsim needs root, ip netns, tc and iptables`)

function netsim (args: string[]): { done: Promise<{ code: number | null, stdout: string, stderr: string }>, child: ReturnType<typeof spawn>, stderr: () => string } {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`)
  const child = spawn(process.execPath, [CLI_PATH, 'netsim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', c => { stdout += String(c) })
  child.stderr.on('data', c => { stderr += String(c) })
  const done = new Promise<{ code: number | null, stdout: string, stderr: string }>(resolve => child.once('exit', code => resolve({ code, stdout, stderr })))
  return { done, child, stderr: () => stderr }
}

/** Namespaces, links and temp directories carrying the netsim prefix. */
async function leftovers (): Promise<string[]> {
  const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map(l => l.split(' ')[0] ?? '').filter(n => n.startsWith('tnsim-'))
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').map(l => /^\d+: ([^:@\s]+)/.exec(l)?.[1] ?? '').filter(n => n.startsWith('tnsim-'))
  const dirs = (await readdir(tmpdir())).filter(d => d.startsWith('tnsim-'))
  return [...ns, ...links, ...dirs]
}

describe.skipIf(reason !== undefined)('trustnet netsim (root)', () => {
  // Whatever an earlier killed run left would make the first run refuse to start.
  beforeAll(async () => { await netsim(['--cleanup']).done })

  it('runs the scenario: a partition stops commits and healing resumes them; loss, a cap and delay slow but never stop them; nothing forks or is lost', async () => {
    expect(await leftovers()).toEqual([])
    const run = netsim(['--scenario', SCENARIO, '--json'])
    const { code, stdout, stderr } = await run.done
    const lines = stdout.trim().split('\n').map(l => JSON.parse(l) as ({ event: 'phase' } & PhaseReport) | ({ event: 'summary' } & NetsimSummary))
    const phases = new Map(lines.flatMap(l => l.event === 'phase' ? [[l.phase, l] as const] : []))
    const summary = lines.find(l => l.event === 'summary') as NetsimSummary
    const at = (name: string): PhaseReport => phases.get(name) as PhaseReport
    console.log(stdout.trim())
    expect(code, stderr).toBe(0)
    expect([...phases.keys()]).toEqual(['baseline', 'delay-100ms', 'partition-2-2', 'healed', 'loss-10', 'cap-1mbit'])

    // A block already voted on when the cut came may still commit; nothing after it.
    expect(at('partition-2-2').commits).toBeLessThanOrEqual(1)
    expect(at('healed').commits).toBeGreaterThan(1)
    expect(at('healed').certified).toBeGreaterThan(0)
    for (const name of ['baseline', 'delay-100ms', 'loss-10', 'cap-1mbit']) {
      expect(at(name).commits, name).toBeGreaterThan(1)
      expect(at(name).certified, name).toBeGreaterThan(0)
    }
    // Each block takes at least three one-way trips between validators (proposal, prevote,
    // precommit): 100 ms each way must show, and not as more than a few seconds.
    const added = (at('delay-100ms').p50Ms as number) - (at('baseline').p50Ms as number)
    expect(added).toBeGreaterThanOrEqual(100)
    expect(added).toBeLessThan(3000)
    for (const p of phases.values()) {
      expect(p.agree, p.phase).toBe(true)
      expect(p.lost, p.phase).toBe(0)
    }
    expect(summary).toMatchObject({ lost: 0, invalidCertificates: 0, uncertified: 0, forks: [] })
    expect(await leftovers()).toEqual([])
  }, 240_000)

  it('removes everything it made when interrupted', async () => {
    const run = netsim(['--seconds', '120', '--load', '10'])
    await waitFor('the phase to start', async () => run.stderr().includes('phase flags') ? true : undefined, 90_000, 200)
    expect((await leftovers()).length).toBeGreaterThan(0)
    run.child.kill('SIGINT')
    const { code } = await run.done
    expect(code).toBe(130) // cut short: not a finished run
    expect(await leftovers()).toEqual([])
  }, 150_000)

  it('refuses to start over leftovers of a killed run, and --cleanup removes them', async () => {
    execFileSync('ip', ['netns', 'add', 'tnsim-v0'])
    execFileSync('ip', ['link', 'add', 'tnsim-br', 'type', 'bridge'])
    await mkdtemp(join(tmpdir(), 'tnsim-'))
    const sleeper = spawn('ip', ['netns', 'exec', 'tnsim-v0', 'sleep', '300'], { stdio: 'ignore' })
    try {
      const refused = await netsim(['--seconds', '5']).done
      expect(refused.code).toBe(2)
      expect(refused.stderr).toContain('[LEFTOVERS]')
      const cleanup = await netsim(['--cleanup']).done
      expect(cleanup.code).toBe(0)
      expect(await leftovers()).toEqual([])
      await waitFor('the process left in the namespace to be killed', async () => sleeper.exitCode !== null || sleeper.signalCode !== null ? true : undefined, 5000, 50)
    } finally {
      sleeper.kill('SIGKILL')
      await netsim(['--cleanup']).done
    }
  }, 60_000)
})

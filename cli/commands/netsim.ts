/**
 * `trustnet netsim`: the network in Linux network namespaces on one machine (root), run through
 * phases of partitions, packet loss, bandwidth caps and added latency, with a report per phase.
 * A scenario comes from a JSON file, or one phase from flags. `--cleanup` removes what a killed
 * run left behind.
 */
import { InvalidArgumentError, type Command } from 'commander'
import { integer } from '../args.js'
import { removeLeftovers } from '../netsim/topology.js'
import { parseScenario, readScenario, type Scenario } from '../netsim/scenario.js'
import { reportTable } from '../netsim/report.js'

interface NetsimFlags {
  scenario?: string
  validators: number
  seconds: number
  partition?: number[][]
  loss: number
  rateMbit?: number
  delayMs: number
  load: number
  batch: number
  basePort: number
  json?: boolean
  keep?: boolean
  cleanup?: boolean
}

/** "0,1|2,3" -> [[0,1],[2,3]] */
function partition (value: string): number[][] {
  const groups = value.split('|').map(g => g.split(',').map(Number))
  if (groups.length < 2 || groups.some(g => g.some(i => !Number.isInteger(i) || i < 0))) throw new InvalidArgumentError('must be groups of validator indices, e.g. 0,1|2,3')
  return groups
}

function number (value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number')
  return n
}

function scenarioFromFlags (o: NetsimFlags): Scenario {
  return parseScenario({
    validators: o.validators,
    load: { rate: o.load, batch: o.batch },
    phases: [{ name: 'flags', seconds: o.seconds, partition: o.partition, lossPercent: o.loss, rateMbit: o.rateMbit, delayMs: o.delayMs }]
  }, 'flags')
}

export function registerNetsim (program: Command): void {
  program.command('netsim')
    .description('run the network in Linux network namespaces (root) through phases of partitions, loss, bandwidth caps and latency; report each phase')
    .option('--scenario <file>', 'scenario JSON: { validators, load: { rate, batch }, phases: [{ name, seconds, partition, lossPercent, rateMbit, delayMs, load }] }')
    .option('--validators <n>', 'validators (without --scenario)', integer(1, 32), 4)
    .option('--seconds <s>', 'length of the one phase (without --scenario)', integer(1, 3600), 20)
    .option('--partition <groups>', 'validator groups cut from each other, e.g. 0,1|2,3', partition)
    .option('--loss <percent>', 'packet loss into each validator', number, 0)
    .option('--rate-mbit <mbit>', 'bandwidth cap per validator, each direction', number)
    .option('--delay-ms <ms>', 'added one-way delay between validators', integer(0, 10_000), 0)
    .option('--load <rate>', 'entries per second sent through the service', number, 20)
    .option('--batch <n>', 'entries per request (1: /v1/hashes, more: /v1/hashes/batch)', integer(1, 1000), 1)
    .option('--base-port <port>', 'first port: validators base+i (p2p, relays) and base+100+i (HTTP), the service base+200', integer(1024, 65000), 7100)
    .option('--json', 'print one JSON line per phase and a summary line instead of the table')
    .option('--keep', 'keep the run directory (configs, chains, logs)')
    .option('--cleanup', 'remove namespaces, links, processes and directories left by a killed run, then exit')
    .action(async (o: NetsimFlags) => {
      if (o.cleanup === true) {
        const removed = await removeLeftovers()
        process.stdout.write(removed.length === 0 ? 'nothing to clean up\n' : removed.map(r => `removed ${r}`).join('\n') + '\n')
        return
      }
      const { runNetsim } = await import('../netsim/run.js')
      const scenario = o.scenario !== undefined ? await readScenario(o.scenario) : scenarioFromFlags(o)
      const result = await runNetsim({ scenario, basePort: o.basePort, keep: o.keep === true, log: line => process.stderr.write(`netsim: ${line}\n`) })
      if (o.json === true) {
        for (const p of result.phases) process.stdout.write(JSON.stringify({ event: 'phase', ...p }) + '\n')
        process.stdout.write(JSON.stringify({ event: 'summary', ...result.summary }) + '\n')
      } else {
        process.stdout.write(reportTable(result.phases))
        const s = result.summary
        process.stdout.write(`${s.entries} entries sent, ${s.certifiedWhileDraining} certified after the last phase, ${s.uncertified} never certified, ${s.invalidCertificates} invalid certificates, ${s.lost} lost; forks at ${s.forks.length === 0 ? 'no height' : s.forks.join(', ')}; ${s.seconds} s\n`)
        if (o.keep === true) process.stdout.write(`run directory: ${result.dir}\n`)
      }
      const ok = result.phases.every(p => p.agree && p.lost === 0) && result.summary.invalidCertificates === 0 && result.summary.forks.length === 0
      process.exitCode = ok ? 0 : 1
    })
}

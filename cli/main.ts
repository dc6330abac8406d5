#!/usr/bin/env node
/**
 * The `trustnet` command: init a network, run a validator, run the service, run a whole local
 * cluster, and check a certificate offline. Every command has --help; errors print one line and
 * exit non-zero.
 */
import '../lib/promise-shim.js'
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError } from 'commander'
import { verifyCertificate } from '../consensus/certificate.js'
import { TrustnetError } from '../consensus/errors.js'
import { fromJsonText } from '../consensus/json.js'
import { CertificateSchema } from '../consensus/types.js'
import { runCluster } from './cluster.js'
import { readGenesis } from '../node/config.js'
import { initNetwork } from './init.js'

function integer (min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`)
    return n
  }
}

/** Run until SIGINT/SIGTERM, then stop cleanly. */
function stopOnSignal (stop: () => Promise<void>): void {
  let stopping = false
  const onSignal = (): void => {
    if (stopping) return
    stopping = true
    stop().then(() => process.exit(0), err => {
      process.stderr.write(`error while stopping: ${(err as Error).message}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

const program = new Command()
program.name('trustnet').description('Anchor data hashes in a ledger kept by independent validators; certificates anyone can check offline.')

program.command('init')
  .description('create keys and a genesis for a new network, with a validator home per node and a service config')
  .requiredOption('--validators <n>', 'number of validators', integer(1, 100))
  .requiredOption('--out <dir>', 'directory to write the network into')
  .option('--base-port <port>', 'first port; validators use base+i (p2p) and base+100+i (HTTP), the service base+200', integer(1024, 65000), 7100)
  .option('--host <ip>', 'address every process listens on', '127.0.0.1')
  .option('--chain-id <id>', 'network name (default: random)')
  .option('--force', 'overwrite an existing network in --out')
  .action(async (o: { validators: number, out: string, basePort: number, host: string, chainId?: string, force?: boolean }) => {
    const { genesis, apiKey } = await initNetwork({ validators: o.validators, out: o.out, basePort: o.basePort, host: o.host, chainId: o.chainId, force: o.force })
    process.stdout.write(`created network ${genesis.chainId} with ${genesis.validators.length} validators in ${o.out}\nclient API key: ${apiKey}\n`)
  })

program.command('node')
  .description('run one validator from its home directory (node.json, ../genesis.json)')
  .requiredOption('--home <dir>', 'the validator home directory')
  .action(async (o: { home: string }) => {
    const { startNode } = await import('../node/node.js')
    const node = await startNode(o.home)
    stopOnSignal(node.stop)
    process.stdout.write(JSON.stringify({ event: 'ready', role: 'node', index: node.index, peerId: node.peerId, http: node.http, p2p: node.p2p }) + '\n')
  })

program.command('service')
  .description('run the service: the HTTP API for clients, anchoring through the validators')
  .requiredOption('--config <file>', 'the service config (service.json)')
  .action(async (o: { config: string }) => {
    const { loadConfig } = await import('../service/config.js')
    const { startService } = await import('../service/main.js')
    const { createLogger } = await import('../lib/log.js')
    const service = await startService(await loadConfig(o.config), { logger: createLogger('service') })
    stopOnSignal(service.stop)
    process.stdout.write(JSON.stringify({ event: 'ready', role: 'service', url: service.url }) + '\n')
  })

program.command('cluster')
  .description('start N validators and a service on loopback (created on first run, restarted on the same data afterwards)')
  .option('--validators <n>', 'number of validators for a new network', integer(1, 50), 4)
  .option('--dir <dir>', 'where the network lives', '.cluster')
  .option('--base-port <port>', 'first port of the range the cluster uses (about 201 ports)', integer(1024, 65000), 7100)
  .option('--json', 'print the service URL, API key, genesis path and node URLs as one JSON line')
  .action(async (o: { validators: number, dir: string, basePort: number, json?: boolean }) => {
    await runCluster({ validators: o.validators, dir: o.dir, basePort: o.basePort, json: o.json === true })
  })

program.command('verify-certificate')
  .description('check a certificate offline against a genesis: Merkle inclusion and a quorum of validator signatures')
  .argument('<certificate>', 'certificate JSON file')
  .requiredOption('--genesis <file>', 'the network genesis JSON')
  .action(async (file: string, o: { genesis: string }) => {
    const genesis = await readGenesis(o.genesis)
    let verdict
    try {
      verdict = verifyCertificate(genesis, fromJsonText(CertificateSchema, await readFile(file, 'utf8')))
    } catch (err) {
      if (!(err instanceof TrustnetError)) throw err
      verdict = { valid: false as const, reason: err.code, message: err.message }
    }
    process.stdout.write(JSON.stringify(verdict) + '\n')
    process.exitCode = verdict.valid ? 0 : 1
  })

program.parseAsync().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  process.stderr.write(`trustnet: ${e.code !== undefined ? `[${e.code}] ` : ''}${e.message}\n`)
  process.exit(2)
})

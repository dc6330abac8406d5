#!/usr/bin/env node
/**
 * The `trustnet` command. Each subcommand lives in cli/commands/, one file each, and registers
 * itself here. Every command has --help; a failure prints one line and exits 2 (a usage error:
 * commander's message, exit 1).
 */
import '../lib/promise-shim.js'
import { Command } from 'commander'
import { registerCluster } from './commands/cluster.js'
import { registerCompose } from './commands/compose.js'
import { registerInit } from './commands/init.js'
import { registerNetsim } from './commands/netsim.js'
import { registerNode } from './commands/node.js'
import { registerService } from './commands/service.js'
import { registerVerifyCertificate } from './commands/verify-certificate.js'

const program = new Command()
program.name('trustnet').description('Anchor data hashes in a ledger kept by independent validators; certificates anyone can check offline.')
for (const register of [registerInit, registerNode, registerService, registerCluster, registerCompose, registerNetsim, registerVerifyCertificate]) register(program)

program.parseAsync().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  process.stderr.write(`trustnet: ${e.code !== undefined ? `[${e.code}] ` : ''}${e.message}\n`)
  process.exit(2)
})

#!/usr/bin/env node
/**
 * The `trustnet` command. Each subcommand lives in cli/commands/, one file each, and registers
 * itself here. Every command has --help; errors print one line and exit 2.
 */
import '../lib/promise-shim.js'
import { Command } from 'commander'
import { registerCluster } from './commands/cluster.js'
import { registerInit } from './commands/init.js'
import { registerNetsim } from './commands/netsim.js'
import { registerNode } from './commands/node.js'
import { registerService } from './commands/service.js'
import { registerVerifyCertificate } from './commands/verify-certificate.js'

const program = new Command()
program.name('trustnet').description('Anchor data hashes in a ledger kept by independent validators; certificates anyone can check offline.')
for (const register of [registerInit, registerNode, registerService, registerCluster, registerVerifyCertificate, registerNetsim]) register(program)

program.parseAsync().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  process.stderr.write(`trustnet: ${e.code !== undefined ? `[${e.code}] ` : ''}${e.message}\n`)
  process.exit(2)
})

#!/usr/bin/env node
/**
 * The `trustnet` command. Each subcommand lives in cli/commands/, one file each, and registers
 * itself here. Every command has --help. Exit codes scripts can rely on: 0 done (or valid), 1 a
 * negative verdict (an invalid certificate), 2 a usage error or any other failure, printed as
 * one line.
 */
import '../lib/promise-shim.js'
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { registerCheck } from './commands/check.js'
import { registerCluster } from './commands/cluster.js'
import { registerCompose } from './commands/compose.js'
import { registerGenesis } from './commands/genesis.js'
import { registerInit } from './commands/init.js'
import { registerKeygen } from './commands/keygen.js'
import { registerNetsim } from './commands/netsim.js'
import { registerNode } from './commands/node.js'
import { registerNodeHome } from './commands/node-home.js'
import { registerService } from './commands/service.js'
import { registerStamp } from './commands/stamp.js'
import { registerVerify } from './commands/verify.js'
import { registerVerifyCertificate } from './commands/verify-certificate.js'

const USAGE_OR_FAILURE = 2

/** The package's version, read from the package.json shipped beside dist/ (also in the image). */
function packageVersion (): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

const program = new Command()
program.name('trustnet')
  .description('Anchor data hashes in a ledger kept by independent validators; certificates anyone can check offline.')
  .version(packageVersion())
  // Before the subcommands are registered: they inherit it. Commander throws instead of exiting,
  // so a usage error exits with our code, not commander's 1 (which scripts would read as "invalid").
  .exitOverride()
for (const register of [registerInit, registerKeygen, registerGenesis, registerNodeHome, registerNode, registerService, registerCluster, registerCompose, registerNetsim, registerStamp, registerVerify, registerCheck, registerVerifyCertificate]) register(program)

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander printed the message or the help text already; help and --version end with 0.
    process.exit(err.exitCode === 0 ? 0 : USAGE_OR_FAILURE)
  }
  const e = err as Error & { code?: string }
  process.stderr.write(`trustnet: ${e.code !== undefined ? `[${e.code}] ` : ''}${e.message}\n`)
  process.exit(USAGE_OR_FAILURE)
})

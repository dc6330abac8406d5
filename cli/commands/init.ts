/** `trustnet init`: keys, genesis, validator homes and a service config for a new network. */
import type { Command } from 'commander'
import { integer } from '../args.js'

export function registerInit (program: Command): void {
  program.command('init')
    .description('create keys and a genesis for a new network, with a validator home per node and a service config')
    .requiredOption('--validators <n>', 'number of validators', integer(1, 100))
    .requiredOption('--out <dir>', 'directory to write the network into')
    .option('--base-port <port>', 'first port; validators use base+i (p2p) and base+100+i (HTTP), the service base+200', integer(1024, 65000), 7100)
    .option('--host <ip>', 'address the validators (p2p) and the service listen on', '127.0.0.1')
    .option('--http-host <ip>', 'address of the validators\' operator HTTP API and explorer page', '127.0.0.1')
    .option('--chain-id <id>', 'network name (default: random)')
    .option('--force', 'overwrite an existing network in --out')
    .action(async (o: { validators: number, out: string, basePort: number, host: string, httpHost: string, chainId?: string, force?: boolean }) => {
      // Loaded when run: every other command starts faster without the key and genesis machinery.
      const { initNetwork } = await import('../init.js')
      const { genesis, apiKey } = await initNetwork({ validators: o.validators, out: o.out, basePort: o.basePort, host: o.host, httpHost: o.httpHost, chainId: o.chainId, force: o.force })
      const { genesisFingerprint } = await import('../../consensus/genesis-fingerprint.js')
      process.stdout.write(`created network ${genesis.chainId} with ${genesis.validators.length} validators in ${o.out}\n` +
        `genesis fingerprint: ${genesisFingerprint(genesis)}\nclient API key: ${apiKey}\n`)
    })
}

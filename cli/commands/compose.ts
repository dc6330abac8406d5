/** `trustnet compose`: keys, genesis and a compose.yml that runs the network as Docker containers. */
import type { Command } from 'commander'
import { integer } from '../args.js'

export function registerCompose (program: Command): void {
  program.command('compose')
    .description('create a network for Docker: keys and genesis in DIR/network, and DIR/compose.yml with a container per validator and one for the service')
    .requiredOption('--validators <n>', 'number of validators', integer(1, 100))
    .option('--out <dir>', 'directory to write compose.yml and network/ into', 'docker')
    .option('--base-port <port>', 'first port; validators use base+i (p2p) and base+100+i (HTTP), the service base+200', integer(1024, 65000), 7100)
    .option('--image <name>', 'the trustnet image (built from docker/Dockerfile)', 'trustnet:latest')
    .option('--publish <ip>', 'host address the service port is published on', '127.0.0.1')
    .option('--impair-image <name>', 'image with tc and iptables for the impairment sidecar (profile "impair")', 'nicolaka/netshoot')
    .option('--chain-id <id>', 'network name (default: random)')
    .option('--force', 'overwrite an existing network in DIR/network')
    .action(async (o: { validators: number, out: string, basePort: number, image: string, publish: string, impairImage: string, chainId?: string, force?: boolean }) => {
      const { composeNetwork } = await import('../compose.js')
      const made = await composeNetwork(o)
      process.stdout.write(`created network ${made.chainId} with ${o.validators} validators; compose file ${made.file}\nservice URL (after docker compose up): ${made.url}\nclient API key: ${made.apiKey}\n`)
    })
}

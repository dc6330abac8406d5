/** `trustnet node-home`: a validator's home directory from its own key and the network's genesis. */
import { InvalidArgumentError, type Command } from 'commander'

/** HOST:PORT, the validator's operator HTTP API. */
function hostPort (value: string): { host: string, port: number } {
  const at = value.lastIndexOf(':')
  const port = Number(value.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be HOST:PORT, e.g. 127.0.0.1:7200')
  return { host: value.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port }
}

export function registerNodeHome (program: Command): void {
  program.command('node-home')
    .description('create a validator home (node.json, a copy of the genesis) from a key made by keygen; run it with `trustnet node --home DIR`')
    .requiredOption('--key <file>', 'this validator\'s key.json')
    .requiredOption('--genesis <file>', 'the network\'s genesis.json')
    .requiredOption('--out <dir>', 'the home directory to create')
    .requiredOption('--listen <multiaddr>', 'p2p address to listen on, e.g. /ip4/0.0.0.0/tcp/7100')
    .requiredOption('--http <host:port>', 'operator HTTP API address', hostPort)
    .option('--peers <peer...>', 'the other validators: NAME=MULTIADDR (genesis name, e.g. validator-1=/dns4/v1.example/tcp/7100) or MULTIADDR/p2p/PEER_ID', [])
    .option('--force', 'overwrite an existing node.json')
    .action(async (o: { key: string, genesis: string, out: string, listen: string, http: { host: string, port: number }, peers: string[], force?: boolean }) => {
      const { makeNodeHome } = await import('../operator-keys.js')
      const made = await makeNodeHome({ keyFile: o.key, genesisFile: o.genesis, out: o.out, listen: o.listen, http: o.http, peers: o.peers, force: o.force })
      process.stdout.write(`wrote ${made.file}: validator ${made.index} of the genesis\n`)
    })
}

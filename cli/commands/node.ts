/** `trustnet node`: run one validator from its home directory until a stop signal. */
import type { Command } from 'commander'
import { runServer } from '../run-server.js'

export function registerNode (program: Command): void {
  program.command('node')
    .description('run one validator from its home directory (node.json, ../genesis.json)')
    .requiredOption('--home <dir>', 'the validator home directory')
    .action(async (o: { home: string }) => {
      const { startNode } = await import('../../node/node.js')
      const node = await runServer(async () => await startNode(o.home))
      process.stdout.write(JSON.stringify({ event: 'ready', role: 'node', index: node.index, peerId: node.peerId, http: node.http, p2p: node.p2p }) + '\n')
    })
}

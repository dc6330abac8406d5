/** `trustnet cluster`: N validators and a service on loopback, the network `npm start` runs. */
import type { Command } from 'commander'
import { integer } from '../args.js'

export function registerCluster (program: Command): void {
  program.command('cluster')
    .description('start N validators and a service on loopback (created on first run, restarted on the same data afterwards)')
    .option('--validators <n>', 'number of validators for a new network', integer(1, 50), 4)
    .option('--dir <dir>', 'where the network lives', '.cluster')
    .option('--base-port <port>', 'first port of the range the cluster uses (about 201 ports)', integer(1024, 65000), 7100)
    .option('--json', 'print the service URL, API key, genesis path and node URLs as one JSON line')
    .action(async (o: { validators: number, dir: string, basePort: number, json?: boolean }) => {
      // Loaded when run: every other command starts faster without the process machinery.
      const { runCluster } = await import('../cluster.js')
      await runCluster({ validators: o.validators, dir: o.dir, basePort: o.basePort, json: o.json === true })
    })
}

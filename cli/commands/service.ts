/** `trustnet service`: run the service (the clients' HTTP API) until a stop signal. */
import type { Command } from 'commander'
import { runServer } from '../run-server.js'

export function registerService (program: Command): void {
  program.command('service')
    .description('run the service: the HTTP API for clients, anchoring through the validators')
    .requiredOption('--config <file>', 'the service config (service.json)')
    .action(async (o: { config: string }) => {
      const { loadConfig } = await import('../../service/config.js')
      const { startService } = await import('../../service/main.js')
      const { createLogger } = await import('../../lib/log.js')
      const service = await runServer(async () => await startService(await loadConfig(o.config), { logger: createLogger('service') }))
      process.stdout.write(JSON.stringify({ event: 'ready', role: 'service', url: service.url }) + '\n')
    })
}

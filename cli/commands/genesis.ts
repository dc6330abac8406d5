/** `trustnet genesis`: assemble a network's genesis from its validators' and services' public keys. */
import type { Command } from 'commander'

const collect = (value: string, list: string[]): string[] => [...list, value]

export function registerGenesis (program: Command): void {
  program.command('genesis')
    .description('assemble a genesis from public keys only (as keygen prints them); validators in the order given')
    .requiredOption('--chain-id <id>', 'the network\'s name')
    .option('--validator <name=pubkey>', 'a validator (repeat for each)', collect, [])
    .option('--service <name=pubkey>', 'a service allowed to submit (repeat for each)', collect, [])
    .requiredOption('--out <file>', 'where to write genesis.json')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print { chainId, validators, services, file } as one JSON line')
    .action(async (o: { chainId: string, validator: string[], service: string[], out: string, force?: boolean, json?: boolean }) => {
      const { assembleGenesis, parseNamedKey, writeGenesis } = await import('../operator-keys.js')
      const genesis = assembleGenesis({ chainId: o.chainId, validators: o.validator.map(parseNamedKey), services: o.service.map(parseNamedKey) })
      await writeGenesis(o.out, genesis, o.force === true)
      const summary = { chainId: genesis.chainId, validators: genesis.validators.length, services: genesis.services.length, file: o.out }
      process.stdout.write(o.json === true
        ? JSON.stringify(summary) + '\n'
        : `wrote ${o.out}: network ${summary.chainId}, ${summary.validators} validators, ${summary.services} services\n`)
    })
}

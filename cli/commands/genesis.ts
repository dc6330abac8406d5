/**
 * `trustnet genesis`: assemble a network's genesis from its validators' and services' public keys,
 * and print its fingerprint: what every header names and what clients pin (--pin). With --show,
 * print the fingerprint of an existing genesis file instead.
 */
import type { Command } from 'commander'
import { genesisFingerprint } from '../../consensus/genesis-fingerprint.js'
import { readGenesis } from '../../node/config.js'
import { ClientUsageError } from '../client-config.js'

const collect = (value: string, list: string[]): string[] => [...list, value]

export function registerGenesis (program: Command): void {
  program.command('genesis')
    .description('assemble a genesis from public keys only (as keygen prints them); validators in the order given')
    .option('--show <file>', 'only print the fingerprint of this genesis file')
    .option('--chain-id <id>', 'the network\'s name')
    .option('--validator <name=pubkey>', 'a validator (repeat for each)', collect, [])
    .option('--service <name=pubkey>', 'a service allowed to submit (repeat for each)', collect, [])
    .option('--out <file>', 'where to write genesis.json')
    .option('--force', 'overwrite an existing file')
    .option('--json', 'print { chainId, validators, services, file, fingerprint } as one JSON line')
    .action(async (o: { show?: string, chainId?: string, validator: string[], service: string[], out?: string, force?: boolean, json?: boolean }) => {
      if (o.show !== undefined) {
        const genesis = await readGenesis(o.show)
        const summary = { chainId: genesis.chainId, validators: genesis.validators.length, services: genesis.services.length, file: o.show, fingerprint: genesisFingerprint(genesis) }
        process.stdout.write(o.json === true ? JSON.stringify(summary) + '\n' : `${summary.fingerprint}\n`)
        return
      }
      if (o.chainId === undefined || o.out === undefined) throw new ClientUsageError('BAD_ARGUMENT', 'give --chain-id and --out to assemble a genesis, or --show FILE')
      const { assembleGenesis, parseNamedKey, writeGenesis } = await import('../operator-keys.js')
      const genesis = assembleGenesis({ chainId: o.chainId, validators: o.validator.map(parseNamedKey), services: o.service.map(parseNamedKey) })
      await writeGenesis(o.out, genesis, o.force === true)
      const summary = { chainId: genesis.chainId, validators: genesis.validators.length, services: genesis.services.length, file: o.out, fingerprint: genesisFingerprint(genesis) }
      process.stdout.write(o.json === true
        ? JSON.stringify(summary) + '\n'
        : `wrote ${o.out}: network ${summary.chainId}, ${summary.validators} validators, ${summary.services} services\ngenesis fingerprint: ${summary.fingerprint}\n`)
    })
}

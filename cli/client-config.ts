/**
 * Where the client commands (stamp, verify, check) find the service URL, the API key and the
 * network's genesis: a flag first, then the environment (TRUSTNET_URL, TRUSTNET_API_KEY,
 * TRUSTNET_GENESIS), then a config file (--config, else ~/.config/trustnet/client.json when it
 * exists: `{ "url", "apiKey", "genesis" }`, the genesis path relative to the file). A setting a
 * command needs and nowhere gives is a ClientUsageError naming the flag that sets it.
 */
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { Command } from 'commander'
import { z } from 'zod'
import type { Genesis } from '../consensus/types.js'
import { CodedError } from '../lib/errors.js'
import { loadJsonFile } from '../lib/json-file.js'
import { readGenesis } from '../node/config.js'

/** A setting missing everywhere, or flags that do not go together: the command cannot start. */
export class ClientUsageError extends CodedError<'MISSING_SETTING' | 'CERTIFICATE_EXISTS' | 'BAD_ARGUMENT'> {
  override readonly name = 'ClientUsageError'
}

const ClientConfigSchema = z.strictObject({
  url: z.string().url().optional(),
  apiKey: z.string().min(1).optional(),
  /** Relative to the config file's directory. */
  genesis: z.string().min(1).optional()
})

/** The flags every client command accepts; each overrides the environment and the config file. */
export interface ConnectionFlags {
  url?: string
  apiKey?: string
  genesis?: string
  config?: string
  json?: boolean
}

export interface ClientSettings {
  url?: string
  apiKey?: string
  /** Absolute path of the genesis file. */
  genesis?: string
}

export type Env = Readonly<Record<string, string | undefined>>

/** ~/.config/trustnet/client.json, under $XDG_CONFIG_HOME when that is set. */
export function defaultConfigPath (env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config')
  return join(base, 'trustnet', 'client.json')
}

/** Flags over environment over config file. An explicit --config must exist; the default one may not. */
export async function resolveSettings (flags: ConnectionFlags, env: Env = process.env): Promise<ClientSettings> {
  const path = flags.config ?? defaultConfigPath(env)
  const file = flags.config !== undefined || existsSync(path) ? await loadJsonFile(path, ClientConfigSchema) : {}
  const nonEmpty = (v: string | undefined): string | undefined => v === '' ? undefined : v
  const genesisFlag = flags.genesis ?? nonEmpty(env.TRUSTNET_GENESIS)
  return {
    url: flags.url ?? nonEmpty(env.TRUSTNET_URL) ?? file.url,
    apiKey: flags.apiKey ?? nonEmpty(env.TRUSTNET_API_KEY) ?? file.apiKey,
    genesis: genesisFlag !== undefined ? resolve(genesisFlag) : file.genesis !== undefined ? resolve(dirname(path), file.genesis) : undefined
  }
}

/** The service to talk to, or the reason there is none. */
export function requireService (s: ClientSettings): { url: string, apiKey: string } {
  if (s.url === undefined) throw missing('service URL', '--url', 'TRUSTNET_URL', 'url')
  if (s.apiKey === undefined) throw missing('API key', '--api-key', 'TRUSTNET_API_KEY', 'apiKey')
  return { url: s.url, apiKey: s.apiKey }
}

/** The network's genesis, read and checked (GENESIS_INVALID when it is not one). */
export async function requireGenesis (s: ClientSettings): Promise<Genesis> {
  if (s.genesis === undefined) throw missing('genesis', '--genesis', 'TRUSTNET_GENESIS', 'genesis')
  return await readGenesis(s.genesis)
}

function missing (what: string, flag: string, variable: string, key: string): ClientUsageError {
  return new ClientUsageError('MISSING_SETTING', `no ${what}: give ${flag}, set ${variable}, or put "${key}" in the config file (--config)`)
}

/** Adds the settings flags a client command uses, and --json. */
export function settingsOptions (command: Command, uses: { service: boolean, genesis: boolean }): Command {
  if (uses.service) {
    command
      .option('--url <url>', 'service URL (env TRUSTNET_URL)')
      .option('--api-key <key>', 'API key (env TRUSTNET_API_KEY)')
  }
  if (uses.genesis) command.option('--genesis <file>', 'the network genesis JSON (env TRUSTNET_GENESIS)')
  return command
    .option('--config <file>', 'client config JSON {url, apiKey, genesis} (default ~/.config/trustnet/client.json)')
    .option('--json', 'print one JSON object per file')
}

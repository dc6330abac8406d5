/**
 * Where the client commands (stamp, verify, check) find the service URL, the API key, the
 * network's genesis and the fingerprint it is pinned to: a flag first, then the environment
 * (TRUSTNET_URL, TRUSTNET_API_KEY, TRUSTNET_GENESIS, TRUSTNET_GENESIS_PIN), then a config file
 * (--config, else ~/.config/trustnet/client.json when it exists: `{ "url", "apiKey", "genesis",
 * "pin" }`, the genesis path relative to the file). A setting a command needs and nowhere gives,
 * or a pin that is not a fingerprint, is a ClientUsageError naming the flag that sets it.
 */
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { Command } from 'commander'
import { z } from 'zod'
import { checkGenesisPin, parseFingerprint } from '../consensus/genesis-fingerprint.js'
import { TrustnetError } from '../consensus/errors.js'
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
  genesis: z.string().min(1).optional(),
  /** The genesis fingerprint: any other genesis is refused. */
  pin: z.string().min(1).optional()
})

/** The flags every client command accepts; each overrides the environment and the config file. */
export interface ConnectionFlags {
  url?: string
  apiKey?: string
  genesis?: string
  pin?: string
  config?: string
  json?: boolean
}

export interface ClientSettings {
  url?: string
  apiKey?: string
  /** Absolute path of the genesis file. */
  genesis?: string
  /** The genesis fingerprint, lowercase hex. */
  pin?: string
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
  const pin = flags.pin ?? nonEmpty(env.TRUSTNET_GENESIS_PIN) ?? file.pin
  return {
    url: flags.url ?? nonEmpty(env.TRUSTNET_URL) ?? file.url,
    apiKey: flags.apiKey ?? nonEmpty(env.TRUSTNET_API_KEY) ?? file.apiKey,
    genesis: genesisFlag !== undefined ? resolve(genesisFlag) : file.genesis !== undefined ? resolve(dirname(path), file.genesis) : undefined,
    ...(pin !== undefined ? { pin: readPin(pin) } : {})
  }
}

/** A pin as given (any case, spaces around) in lowercase; BAD_ARGUMENT when it is not a fingerprint. */
export function readPin (pin: string): string {
  try {
    return parseFingerprint(pin)
  } catch (err) {
    if (err instanceof TrustnetError) throw new ClientUsageError('BAD_ARGUMENT', `--pin / TRUSTNET_GENESIS_PIN: ${err.message}`)
    throw err
  }
}

/** The service to talk to, or the reason there is none. */
export function requireService (s: ClientSettings): { url: string, apiKey: string } {
  if (s.url === undefined) throw missing('service URL', '--url', 'TRUSTNET_URL', 'url')
  if (s.apiKey === undefined) throw missing('API key', '--api-key', 'TRUSTNET_API_KEY', 'apiKey')
  return { url: s.url, apiKey: s.apiKey }
}

/**
 * The network's genesis, read and checked (GENESIS_INVALID when it is not one), and the pinned
 * one when a pin is set: a TrustnetError GENESIS_PIN_MISMATCH otherwise, which commands that
 * give verdicts report as one (the certificates cannot be believed), not as a usage error.
 */
export async function requireGenesis (s: ClientSettings): Promise<Genesis> {
  if (s.genesis === undefined) throw missing('genesis', '--genesis', 'TRUSTNET_GENESIS', 'genesis')
  const genesis = await readGenesis(s.genesis)
  if (s.pin !== undefined) checkGenesisPin(genesis, s.pin)
  return genesis
}

/** Whether `err` is requireGenesis's refusal of a genesis that is not the pinned one. */
export function isPinMismatch (err: unknown): err is TrustnetError {
  return err instanceof TrustnetError && err.code === 'GENESIS_PIN_MISMATCH'
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
  if (uses.genesis) {
    command
      .option('--genesis <file>', 'the network genesis JSON (env TRUSTNET_GENESIS)')
      .option('--pin <fingerprint>', 'the genesis fingerprint to trust: any other genesis is refused (env TRUSTNET_GENESIS_PIN)')
  }
  return command
    .option('--config <file>', 'client config JSON {url, apiKey, genesis, pin} (default ~/.config/trustnet/client.json)')
    .option('--json', 'print one JSON object per file')
}

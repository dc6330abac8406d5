/**
 * Command-line options of `npm run bench`: a full run, a short one for CI (`--short`), the
 * validator counts to measure, and the soak mode with its duration. Parsing is strict: an unknown
 * flag or a bad value is an error with the usage text, never a silently different run.
 */
export interface BenchArgs {
  mode: 'bench' | 'soak' | 'help'
  short: boolean
  validators: number[]
  minutes: number
  /** Seed of the soak's kill schedule, so a failing schedule can be replayed. */
  seed: number
  /** The soak's offered load, requests/s; absent: half the single-record peak, measured first. */
  rate?: number
}

export const USAGE = `usage: npm run bench -- [options]

Starts real clusters (validator and service processes on 127.0.0.1), drives them from separate
load-client processes and prints every figure as one JSON line on stdout, then a table.
Progress goes to stderr.

options:
  --short              short phases (CI): every phase for the first validator count, only
                       single-record, latency, resource and offline figures for the others
  --validators N[,M]   validator counts to measure (default 4,7; soak: 4); may be repeated
  --soak               soak mode: steady load while validators are killed (SIGKILL) and
                       restarted, then safety and durability checks; exit 1 on any violation
  --minutes N          soak duration in minutes (default 5; fractions allowed)
  --rate N             soak load in requests/s, sent on a schedule (default: half the
                       single-record peak, measured first on the same cluster)
  --seed N             soak kill schedule seed (default: random, printed)
  --help               this text

environment: TRUSTNET_EXEC_ARGV passes Node flags (e.g. --cpu-prof) to validators and service;
TRUSTNET_LOG sets their log level (default warn); KEEP_E2E_DIR=1 keeps the cluster directory.`

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

function positiveNumber (flag: string, value: string | undefined): number {
  const n = Number(value)
  if (value === undefined || value === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number`)
  return n
}

function validatorCounts (value: string | undefined): number[] {
  const counts = (value ?? '').split(',').map(v => Number(v.trim()))
  if (counts.length === 0 || !counts.every(n => Number.isInteger(n) && n >= 1 && n <= 30)) {
    throw new UsageError('--validators needs integers from 1 to 30, comma-separated')
  }
  return counts
}

export function parseArgs (argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { mode: 'bench', short: false, validators: [], minutes: 5, seed: Math.floor(Math.random() * 2 ** 31) }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string
    const [name, inline] = flag.startsWith('--') && flag.includes('=') ? flag.split('=', 2) as [string, string] : [flag, undefined]
    const value = (): string | undefined => inline ?? argv[++i]
    switch (name) {
      case '--help': case '-h': args.mode = 'help'; break
      case '--short': args.short = true; break
      case '--soak': if (args.mode !== 'help') args.mode = 'soak'; break
      case '--validators': args.validators.push(...validatorCounts(value())); break
      case '--minutes': args.minutes = positiveNumber('--minutes', value()); break
      case '--seed': args.seed = Math.floor(positiveNumber('--seed', value())); break
      case '--rate': args.rate = positiveNumber('--rate', value()); break
      default: throw new UsageError(`unknown option ${flag}`)
    }
  }
  if (args.validators.length === 0) args.validators = args.mode === 'soak' ? [4] : [4, 7]
  // The soak keeps one validator down at a time: that needs f >= 1, so n >= 3f + 1 = 4.
  if (args.mode === 'soak' && (args.validators[0] as number) < 4) throw new UsageError('--soak needs at least 4 validators')
  if (args.rate !== undefined && args.mode === 'bench') throw new UsageError('--rate is an option of --soak')
  return args
}

/**
 * `npm run bench`: measures trustnet on this machine with real processes on loopback. First the
 * machine's own SHA-256 and LevelDB rates, then for each validator count a fresh cluster under
 * load from separate client processes; or, with --soak, a cluster under load while validators are
 * killed and restarted, followed by safety and durability checks. Figures are JSON lines on stdout
 * followed by a table; the exit code is non-zero on any error or violated invariant.
 */
import { parseArgs, USAGE, UsageError, type BenchArgs } from './args.js'
import { ed25519VerifyRate, levelBatchPutRate, sha256Rate } from './baselines.js'
import type { Baselines } from './bench-phases.js'
import { installInterruptHandlers } from './cleanup.js'
import { benchCluster } from './cluster-bench.js'
import { baselineMs, PROFILES } from './profiles.js'
import { recordPathCost } from './record-path.js'
import { log, Report } from './report.js'
import { runSoak } from './soak.js'
import { round } from './stats.js'
import { summaryTable } from './table.js'

async function measureBaselines (report: Report, short: boolean): Promise<Baselines> {
  const ms = baselineMs(short)
  const sha256PerS = sha256Rate(ms)
  report.emit({ metric: 'sha256_per_s', value: round(sha256PerS), unit: 'hashes/s', validators: null, input_bytes: 150 })
  const levelPutsPerS = await levelBatchPutRate(ms)
  report.emit({ metric: 'level_batch_puts_per_s', value: round(levelPutsPerS), unit: 'puts/s', validators: null, value_bytes: 150, batch: 1000, sync: false })
  const ed25519VerifyPerS = ed25519VerifyRate(ms)
  report.emit({ metric: 'ed25519_verify_per_s', value: round(ed25519VerifyPerS), unit: 'verifications/s', validators: null, message_bytes: 100 })
  const path = await recordPathCost(ms)
  report.emit({ metric: 'validator_record_path_us', value: round(path.usPerRecord), unit: 'us/record', validators: null, records: path.records, batch: 1000 })
  return { sha256PerS, levelPutsPerS, ed25519VerifyPerS, recordPathUs: path.usPerRecord }
}

async function bench (args: BenchArgs): Promise<number> {
  const report = new Report()
  const started = Date.now()
  const baselines = await measureBaselines(report, args.short)
  for (const [i, n] of args.validators.entries()) {
    const profile = args.short ? (i === 0 ? PROFILES.short : PROFILES.tiny) : PROFILES.full
    await benchCluster(n, profile, report, baselines)
  }
  const seconds = round((Date.now() - started) / 1000, 3)
  process.stdout.write('\n' + summaryTable(report, `trustnet bench${args.short ? ' (short)' : ''}: ${seconds} s`))
  return 0
}

async function main (): Promise<number> {
  let args: BenchArgs
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\n\n${USAGE}\n`)
    return 2
  }
  if (args.mode === 'help') {
    process.stdout.write(USAGE + '\n')
    return 0
  }
  installInterruptHandlers()
  return args.mode === 'soak' ? await runSoak(args) : await bench(args)
}

main().then(
  code => { process.exitCode = code },
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
    process.exitCode = 1
  }
).finally(() => {
  // Keep-alive sockets to processes that are gone would otherwise hold the exit up.
  setImmediate(() => process.exit())
})

/**
 * `npm run bench -- --short` end to end, as CI runs it: the compiled bench starts real clusters,
 * and every required figure must come out as a JSON line with a finite, positive value within
 * sane bounds, no request may fail or be dropped, and the single-record backlog must drain. This
 * checks that the figures are produced and plausible, not how good they are.
 */
import { describe, expect, it } from 'vitest'
import { runBench, tail } from './bench-output.js'

const REQUIRED = [
  'certified_records_per_s_single',
  'accepted_records_per_s_single',
  'certified_records_per_s_batch',
  'delivered_records_per_s_batch',
  'latency_p50_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'offline_verify_per_s',
  'offline_verify_per_s_shared_commits',
  'verify_requests_per_s',
  'node_rss_mb_max',
  'node_private_mb_max',
  'node_bytes_per_record',
  'sha256_per_s',
  'level_batch_puts_per_s',
  'ed25519_verify_per_s',
  'validator_record_path_us',
  'replica_bound_records_per_s',
  'cpu_us_per_record_single',
  'cpu_us_per_record_batch',
  'cpu_us_per_record_paced'
]

describe('bench --short', () => {
  it('prints every required figure, finite, positive and within sane bounds', async () => {
    const run = await runBench(['--short'], 140_000)
    expect(run.code, tail(run.stderr)).toBe(0)
    const { figures } = run
    for (const metric of REQUIRED) {
      const found = figures.filter(f => f.metric === metric)
      expect(found.length, `${metric} is printed`).toBeGreaterThan(0)
      for (const f of found) {
        expect(Number.isFinite(f.value) && f.value > 0, `${metric} = ${f.value} (${f.validators} validators)`).toBe(true)
        expect(typeof f.unit).toBe('string')
      }
    }
    for (const f of figures) {
      if (f.metric === 'latency_p99_ms') expect(f.value).toBeLessThan(30_000)
      if (f.metric === 'node_rss_mb_max') expect(f.value).toBeLessThan(2000)
      // No phase may have lost a request: a failure is a bug, not a slower figure.
      if ('failures' in f) expect(f.failures, `${f.metric} failures (${f.validators} validators)`).toBe(0)
      if ('dropped' in f) expect(f.dropped, `${f.metric} dropped (${f.validators} validators)`).toBe(0)
    }
    // CPU per record: one figure per validator, parts that add up to the total, a busy share of the machine.
    for (const f of figures.filter(f => f.metric.startsWith('cpu_us_per_record_'))) {
      const perValidator = f.per_validator as number[]
      expect(perValidator.length, `${f.metric} per validator`).toBe(f.validators)
      const parts = perValidator.reduce((a, b) => a + b, 0) + (f.service as number) + (f.load_clients as number)
      expect(Math.abs(parts - f.value), `${f.metric}: parts ${parts}, total ${f.value}`).toBeLessThanOrEqual(0.01 * f.value)
      expect(perValidator.every(v => v > 0) && (f.service as number) > 0 && (f.load_clients as number) > 0).toBe(true)
      expect((f.machine_busy as number) > 0 && (f.machine_busy as number) <= 1, `${f.metric} machine_busy ${String(f.machine_busy)}`).toBe(true)
    }
    // No cluster beats the bound of its validators' own record path on this machine's cores.
    for (const f of figures.filter(f => f.metric.startsWith('certified_records_per_s_'))) {
      expect(typeof f.per_replica_bound === 'number' && f.per_replica_bound > 0 && f.per_replica_bound <= 1,
        `${f.metric} (${f.validators} validators) of replica bound: ${String(f.per_replica_bound)}`).toBe(true)
    }
    // The single-record backlog (stored, not yet certified at the window's end) was certified before the next phase.
    const backlogs = figures.filter(f => f.metric === 'backlog_records_single')
    expect(backlogs.length).toBeGreaterThan(0)
    for (const f of backlogs) {
      expect(Number.isInteger(f.value) && f.value >= 0, `backlog ${f.value}`).toBe(true)
      expect(typeof f.drained_in_ms === 'number' && Number.isFinite(f.drained_in_ms), 'the backlog drained').toBe(true)
    }
    const at = (metric: string, n: number | null): number | undefined => figures.find(f => f.metric === metric && f.validators === n)?.value
    for (const n of new Set(figures.map(f => f.validators).filter(v => v !== null))) {
      expect(at('latency_p50_ms', n)).toBeLessThanOrEqual(at('latency_p95_ms', n) as number)
      expect(at('latency_p95_ms', n)).toBeLessThanOrEqual(at('latency_p99_ms', n) as number)
      // Remembering checked commits can only save work.
      expect(at('offline_verify_per_s_shared_commits', n)).toBeGreaterThan(at('offline_verify_per_s', n) as number)
      // Private memory is part of resident memory.
      expect(at('node_private_mb_max', n)).toBeLessThanOrEqual(at('node_rss_mb_max', n) as number)
    }
    expect(run.stdout).toContain('validators')
  }, 150_000)
})

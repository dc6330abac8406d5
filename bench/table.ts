/**
 * The human-readable summary printed after the JSON lines: one row per metric, one column per
 * validator count, then each throughput figure as a fraction of the machine's raw SHA-256 and
 * LevelDB put rates, then notes on anything that could not be measured.
 */
import type { Figure, Report } from './report.js'

function cell (value: unknown): string {
  if (typeof value !== 'number') return '-'
  return value.toLocaleString('en-US', { maximumSignificantDigits: 4 })
}

function render (rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map(r => (r[c] ?? '').length))) ?? []
  return rows.map(r => r.map((v, c) => c === 0 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0)).join('  ')).join('\n')
}

export function summaryTable (report: Report, title: string): string {
  const figures = report.figures
  const counts = [...new Set(figures.map(f => f.validators).filter((v): v is number => v !== null))]
  const metrics = [...new Set(figures.filter(f => f.validators !== null).map(f => f.metric))]
  const byKey = new Map(figures.map(f => [`${f.metric}/${f.validators}`, f]))
  const unit = (m: string): string => figures.find(f => f.metric === m)?.unit ?? ''
  const lines = [title]
  const baselines = figures.filter(f => f.validators === null)
  if (baselines.length > 0) lines.push('machine: ' + baselines.map(f => `${f.metric} ${cell(f.value)} ${f.unit}`).join(', '))
  lines.push('', render([
    ['metric', 'unit', ...counts.map(n => `${n} validators`)],
    ...metrics.map(m => [m, unit(m), ...counts.map(n => cell(byKey.get(`${m}/${n}`)?.value))])
  ]))
  const ratios = figures.filter((f): f is Figure & { per_sha256: number, per_level_put: number } => typeof f.per_sha256 === 'number')
  if (ratios.length > 0) {
    lines.push('', 'throughput as a fraction of raw SHA-256 (150 B) and LevelDB batch-put rates on this machine,',
      "and of the replica bound (every core doing only the validators' own record path)", render([
        ['metric', 'validators', 'value', 'of sha256', 'of level put', 'of replica bound'],
        ...ratios.map(f => [f.metric, String(f.validators), cell(f.value), cell(f.per_sha256), cell(f.per_level_put), cell(f.per_replica_bound)])
      ]))
  }
  if (report.notes.length > 0) lines.push('', ...report.notes.map(n => `note: ${n}`))
  return lines.join('\n') + '\n'
}

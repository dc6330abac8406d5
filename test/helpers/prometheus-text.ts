/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must be
 * a `# HELP`, a `# TYPE` or a sample `name{label="value",...} number`, or the read fails naming
 * the line. Samples are returned by name with their labels.
 */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
// Prometheus reads values with Go's ParseFloat, which ignores the case of NaN and Inf (prom-client writes `Nan`).
const NUMBER = '(?:[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[Nn][Aa][Nn]|[+-]?[Ii][Nn][Ff])'
const HELP = new RegExp(`^# HELP (${NAME}) .*$`)
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (${NUMBER})(?: -?[0-9]+)?$`)
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"/g

export interface Sample { labels: Record<string, string>, value: number }
export interface Exposition { types: Map<string, string>, samples: Map<string, Sample[]> }

export class ExpositionError extends Error {
  readonly code = 'BAD_EXPOSITION'
}

export function parseExposition (text: string): Exposition {
  const types = new Map<string, string>()
  const samples = new Map<string, Sample[]>()
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '' || HELP.test(line)) continue
    const type = TYPE.exec(line)
    if (type !== null) { types.set(type[1] as string, type[2] as string); continue }
    const sample = SAMPLE.exec(line)
    if (sample === null) throw new ExpositionError(`line ${i + 1} is not Prometheus text: ${line}`)
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(LABEL_PAIR)].map(m => [m[1] as string, m[2] as string]))
    const list = samples.get(sample[1] as string) ?? []
    list.push({ labels, value: number(sample[3] as string) })
    samples.set(sample[1] as string, list)
  }
  return { types, samples }
}

function number (text: string): number {
  if (/inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity
  return /^nan$/i.test(text) ? NaN : Number(text)
}

/** The one value of `name` whose labels include `labels`. */
export function valueOf (exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = (exposition.samples.get(name) ?? []).filter(s => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return matching.length === 1 ? matching[0]?.value : undefined
}

/**
 * Where figures go: each one as a JSON line on stdout the moment it is measured (stable names,
 * so CI and later comparisons can parse them), kept for the human-readable table printed at the
 * end. Progress and diagnostics go to stderr, so stdout stays machine-readable.
 */
export interface Figure {
  metric: string
  value: number
  unit: string
  /** null for figures of the machine itself (baselines), not of a cluster. */
  validators: number | null
  [extra: string]: unknown
}

export function log (message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

export class Report {
  readonly figures: Figure[] = []
  /** Lines for the table about what the figures do not say (e.g. a soak violation). */
  readonly notes: string[] = []

  emit (figure: Figure): void {
    this.figures.push(figure)
    process.stdout.write(JSON.stringify(figure) + '\n')
  }

  note (line: string): void {
    this.notes.push(line)
    log(line)
  }

  find (metric: string, validators: number | null): Figure | undefined {
    return this.figures.find(f => f.metric === metric && f.validators === validators)
  }
}

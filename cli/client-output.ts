/**
 * Output of the client commands: with --json one JSON object per file on its own line (scripts
 * read stdout line by line), otherwise a few aligned lines for a person. Verdicts go to stdout;
 * failures of the command itself go to stderr as one line, from cli/main.ts.
 */

export type Fields = Array<[label: string, value: string | number | undefined]>

/** One JSON line. */
export function printJson (value: object): void {
  process.stdout.write(JSON.stringify(value) + '\n')
}

/** A headline, then `label  value` lines for the fields that have a value. */
export function printHuman (headline: string, fields: Fields = []): void {
  const shown = fields.filter((f): f is [string, string | number] => f[1] !== undefined)
  const width = Math.max(0, ...shown.map(([label]) => label.length))
  process.stdout.write([headline, ...shown.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n')
}

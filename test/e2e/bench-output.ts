/**
 * Runs the compiled bench (`dist/bench/run.js`) as a child process for the end-to-end checks
 * of its output, and parses the JSON lines it prints on stdout into figures.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const BENCH_PATH = fileURLToPath(new URL('../../dist/bench/run.js', import.meta.url))

export interface BenchFigure { metric: string, value: number, unit: string, validators: number | null, [extra: string]: unknown }
export interface BenchRun { code: number | null, figures: BenchFigure[], stdout: string, stderr: string }

export async function runBench (args: string[], timeoutMs: number): Promise<BenchRun> {
  if (!existsSync(BENCH_PATH)) throw new Error(`${BENCH_PATH} is missing: run \`npm run build\` first (npm test does)`)
  const child = spawn(process.execPath, [BENCH_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  // SIGTERM lets the bench tear its cluster down before it exits.
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  const figures = stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as BenchFigure)
  return { code, figures, stdout, stderr }
}

/** The last lines of the bench's stderr, for a failure message. */
export const tail = (text: string, lines = 40): string => text.split('\n').slice(-lines).join('\n')

/**
 * A netsim scenario: how many validators, and phases run one after another, each with the
 * impairments it sets (partition, packet loss, bandwidth cap, added latency) and the load driven
 * through the service. Read from a small JSON file (or built from flags) and checked with zod;
 * a bad file is refused with the path of the offending field.
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { NetsimError } from './errors.js'
import { MAX_VALIDATORS } from './names.js'

export const LoadSchema = z.strictObject({
  /** Entries (hashes) per second, sent at an even pace; 0 = no load. */
  rate: z.number().min(0).max(100_000),
  /** Hashes per request: 1 posts to /v1/hashes, more to /v1/hashes/batch. */
  batch: z.number().int().min(1).max(1000).default(1)
})

export const PhaseSchema = z.strictObject({
  name: z.string().min(1).max(40).regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only'),
  seconds: z.number().min(1).max(3600),
  /** Groups of validator indices; links between groups carry nothing. Absent: no partition. */
  partition: z.array(z.array(z.number().int().min(0)).min(1)).min(2).optional(),
  lossPercent: z.number().min(0).max(100).default(0),
  /** Cap on each validator's traffic, each direction. Absent: no cap. */
  rateMbit: z.number().positive().max(100_000).optional(),
  /** Added one-way delay on every link between two validators, each direction. */
  delayMs: z.number().int().min(0).max(10_000).default(0),
  /** Absent: the scenario's load. */
  load: LoadSchema.optional()
})

export const ScenarioSchema = z.strictObject({
  validators: z.number().int().min(1).max(MAX_VALIDATORS).default(4),
  load: LoadSchema.default({ rate: 20, batch: 1 }),
  phases: z.array(PhaseSchema).min(1).max(100)
}).superRefine((s, ctx) => {
  s.phases.forEach((phase, p) => {
    if (phase.partition === undefined) return
    const seen = new Set<number>()
    for (const i of phase.partition.flat()) {
      if (i >= s.validators) ctx.addIssue({ code: 'custom', path: ['phases', p, 'partition'], message: `validator ${i} does not exist (validators: ${s.validators})` })
      if (seen.has(i)) ctx.addIssue({ code: 'custom', path: ['phases', p, 'partition'], message: `validator ${i} is in two groups` })
      seen.add(i)
    }
  })
})

export type Scenario = z.infer<typeof ScenarioSchema>
export type Phase = z.infer<typeof PhaseSchema>
export type Load = z.infer<typeof LoadSchema>

/** Check a parsed scenario; every problem is named by its path (phases.1.lossPercent: ...). */
export function parseScenario (value: unknown, source = 'scenario'): Scenario {
  const result = ScenarioSchema.safeParse(value)
  if (result.success) return result.data
  const problems = result.error.issues.map(i => `${i.path.join('.') || '(top)'}: ${i.message}`)
  throw new NetsimError('SCENARIO_INVALID', `${source}: ${problems.join('; ')}`)
}

export async function readScenario (file: string): Promise<Scenario> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new NetsimError('SCENARIO_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new NetsimError('SCENARIO_INVALID', `${file} is not valid JSON: ${(err as Error).message}`)
  }
  return parseScenario(json, file)
}

/** Whether validators a and b can reach each other; one named in no group is cut off from all. */
export function sameSide (partition: number[][] | undefined, a: number, b: number): boolean {
  if (partition === undefined) return true
  const group = partition.find(g => g.includes(a))
  return group !== undefined && group.includes(b)
}

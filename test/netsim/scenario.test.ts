import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseScenario, readScenario, sameSide } from '../../cli/netsim/scenario.js'

const dir = await mkdtemp(join(tmpdir(), 'netsim-scenario-'))
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('netsim scenario', () => {
  it('reads the shipped scenario, filling in defaults', async () => {
    const s = await readScenario(new URL('../../cli/netsim/scenarios/impairments.json', import.meta.url).pathname)
    expect(s.validators).toBe(4)
    expect(s.phases.map(p => p.name)).toContain('partition-2-2')
    expect(s.phases[0]).toMatchObject({ lossPercent: 0, delayMs: 0 })
    expect(s.phases[0]?.rateMbit).toBeUndefined()
  })

  it.each([
    ['a partition naming a validator that does not exist', { validators: 4, phases: [{ name: 'p', seconds: 5, partition: [[0, 1], [2, 4]] }] }],
    ['a validator in two groups', { validators: 4, phases: [{ name: 'p', seconds: 5, partition: [[0, 1], [1, 2]] }] }],
    ['a partition of one group', { validators: 4, phases: [{ name: 'p', seconds: 5, partition: [[0, 1, 2, 3]] }] }],
    ['loss above 100%', { phases: [{ name: 'p', seconds: 5, lossPercent: 120 }] }],
    ['a negative delay', { phases: [{ name: 'p', seconds: 5, delayMs: -1 }] }],
    ['an unknown field', { phases: [{ name: 'p', seconds: 5, jitterMs: 3 }] }],
    ['no phases', { phases: [] }],
    ['a zero bandwidth cap', { phases: [{ name: 'p', seconds: 5, rateMbit: 0 }] }]
  ])('refuses %s with SCENARIO_INVALID naming the field', (_what, value) => {
    expect(() => parseScenario(value)).toThrow(expect.objectContaining({ name: 'NetsimError', code: 'SCENARIO_INVALID' }))
  })

  it('refuses a file that is missing or not JSON', async () => {
    await expect(readScenario(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'SCENARIO_UNREADABLE' })
    await writeFile(join(dir, 'bad.json'), '{ validators: 4')
    await expect(readScenario(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'SCENARIO_INVALID' })
  })

  it('puts two validators on one side only when a group holds both', () => {
    expect(sameSide(undefined, 0, 3)).toBe(true)
    expect(sameSide([[0, 1], [2, 3]], 0, 1)).toBe(true)
    expect(sameSide([[0, 1], [2, 3]], 1, 2)).toBe(false)
    // Named in no group: cut off from everyone.
    expect(sameSide([[0, 1], [2]], 3, 2)).toBe(false)
  })
})

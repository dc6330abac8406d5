/**
 * The bench's replica bound: the validator's entry path (decode a signed submission, check its
 * signature, look its entries up, mempool, block with Merkle root, commit to LevelDB) runs
 * through the node's own modules for at least the CPU time asked, over whole submissions of new
 * entries, and leaves no store behind; the bound divides the machine's cores among the
 * validators' entry paths.
 */
import { readdir } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { replicaBound } from '../../bench/bench-phases.js'
import { recordPathCost } from '../../bench/record-path.js'

const storesLeft = async (): Promise<string[]> => (await readdir(tmpdir())).filter(name => name.startsWith('trustnet-bench-path-'))

describe('validator entry path', () => {
  it('measures at least the CPU time asked, over whole submissions of 1000 entries, and removes its store', async () => {
    const before = new Set(await storesLeft())
    const { usPerRecord, records } = await recordPathCost(200)
    expect(records).toBeGreaterThanOrEqual(1000)
    expect(records % 1000).toBe(0)
    expect(Number.isFinite(usPerRecord) && usPerRecord > 0).toBe(true)
    // The loop stops only once the CPU it counted reached the duration.
    expect(usPerRecord * records).toBeGreaterThanOrEqual(200_000)
    expect((await storesLeft()).filter(name => !before.has(name))).toEqual([])
  })

  it('shares the cores among the validators: twice the validators, half the bound', () => {
    const baselines = { sha256PerS: 1, levelPutsPerS: 1, ed25519VerifyPerS: 1, recordPathUs: 25 }
    expect(replicaBound(baselines, 4)).toBeCloseTo(availableParallelism() * 1e6 / 100)
    expect(replicaBound(baselines, 8)).toBeCloseTo(replicaBound(baselines, 4) / 2)
  })
})

/**
 * writeBatch: what the caller queued lands at once; a fill that throws writes nothing, leaves the
 * batch closed (not holding its entries) and passes the error on.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeBatch } from '../../lib/write-batch.js'

describe('writeBatch', () => {
  let dir: string
  let db: Level<string, string>

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-batch-'))
    db = new Level<string, string>(dir)
    await db.open()
  })
  afterEach(async () => {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('writes every queued put and delete', async () => {
    await db.put('gone', 'x')
    await writeBatch(db, batch => { batch.put('a', '1').put('b', '2').del('gone') }, { sync: true })
    expect(await db.getMany(['a', 'b', 'gone'])).toEqual(['1', '2', undefined])
  })

  it('writes nothing and closes the batch when filling it throws', async () => {
    const boom = new Error('fill failed')
    let filled: ReturnType<typeof db.batch> | undefined
    await expect(writeBatch(db, batch => {
      filled = batch
      batch.put('a', '1')
      throw boom
    })).rejects.toBe(boom)
    expect(await db.get('a')).toBeUndefined()
    expect(() => filled?.put('b', '2')).toThrow(expect.objectContaining({ code: 'LEVEL_BATCH_NOT_OPEN' }))
  })
})

/**
 * How the outbox groups single items into rounds: an idle outbox submits at once, and while a
 * round is in flight, items arriving within lingerMs of the first one waiting go out together in
 * one round rather than one round each. The nodes are a scripted CertificateSource whose
 * certificate requests stay open until the outbox stops, so the first round stays in flight.
 * When the nodes refuse the service itself, the outbox reports it as such and pauses for long
 * instead of retrying at the pace of a network failure.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SubmissionRefusedError } from '../../service/errors.js'
import type { CertificateSource, OutboxInit } from '../../service/outbox.js'
import { Outbox } from '../../service/outbox.js'
import { ServiceStore, type Item } from '../../service/store.js'
import { makeRecord } from '../helpers/fixtures.js'
import { waitFor } from '../../lib/wait-for.js'

/** Records each submit's size; certificate requests answer nothing until their wait ends or the outbox stops. */
class HoldingNodes implements CertificateSource {
  readonly submits: number[] = []

  async submit (entries: readonly Uint8Array[]): Promise<{ acknowledged: number, committed: Set<string> }> {
    this.submits.push(entries.length)
    return { acknowledged: 1, committed: new Set() }
  }

  async certificates (ids: readonly Uint8Array[], opts: { waitMs: number, signal?: AbortSignal }): Promise<null[]> {
    await new Promise<void>(resolve => {
      const done = (): void => { clearTimeout(timer); resolve() }
      const timer = setTimeout(done, opts.waitMs)
      opts.signal?.addEventListener('abort', done, { once: true })
    })
    return ids.map(() => null)
  }
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setUp (lingerMs: number, nodes: CertificateSource & { submits: number[] } = new HoldingNodes(), init: Partial<OutboxInit> = {}): Promise<{ nodes: CertificateSource & { submits: number[] }, store: (i: number) => Promise<Item>, add: (i: number) => Promise<void>, outbox: Outbox }> {
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-outbox-'))
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  const store = new ServiceStore(join(dir, 'db'))
  await store.open()
  cleanups.push(async () => { await store.close() })
  const outbox = new Outbox({ store, nodes, lingerMs, pollWaitMs: 30_000, ...init })
  await outbox.start()
  cleanups.push(async () => { await outbox.stop() })
  const storeItem = async (i: number): Promise<Item> => {
    return await store.putItem({ client: 'alice', record: makeRecord(i), createdAt: Date.now() })
  }
  const add = async (i: number): Promise<void> => { outbox.add([await storeItem(i)]) }
  return { nodes, store: storeItem, add, outbox }
}

/** A macrotask boundary: the outbox's loop runs in between. */
const nextTurn = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 10)) }

describe('outbox rounds', () => {
  it('submits at once when idle, then gathers the items of the linger into one round', async () => {
    const { nodes, store, add, outbox } = await setUp(1_000)
    await add(0)
    await waitFor('the first round', async () => nodes.submits.length === 1 ? true : undefined, 5_000, 5)
    expect(nodes.submits).toEqual([1])
    // A round is in flight now: the next items, handed over one at a time, wait for each other.
    const items = await Promise.all([1, 2, 3, 4, 5].map(store))
    for (const item of items) {
      outbox.add([item])
      await nextTurn()
    }
    await waitFor('the second round', async () => nodes.submits.length === 2 ? true : undefined, 5_000, 5)
    expect(nodes.submits).toEqual([1, 5])
  })

  it('with no linger, every item that finds the outbox free goes out in its own round', async () => {
    const { nodes, add } = await setUp(0)
    for (let i = 0; i < 5; i++) {
      await add(i)
      await waitFor(`round ${i + 1}`, async () => nodes.submits.length === i + 1 ? true : undefined, 5_000, 5)
    }
    expect(nodes.submits).toEqual([1, 1, 1, 1, 1])
  })

  it('reports a refusal of the service itself and pauses for long, where a network failure is retried soon', async () => {
    const refusing = {
      submits: [] as number[],
      failure: new SubmissionRefusedError('UNKNOWN_SERVICE', 'not registered') as Error,
      async submit (entries: readonly Uint8Array[]): Promise<never> { this.submits.push(entries.length); throw this.failure },
      async certificates (): Promise<never> { throw new Error('not reached') }
    }
    const refused: SubmissionRefusedError[] = []
    const errors: unknown[] = []
    const backoff = { minMs: 20, maxMs: 40 }
    const { add } = await setUp(0, refusing, { backoff, refusedBackoffMs: 60_000, onRefused: err => { refused.push(err) }, onError: err => { errors.push(err) } })
    await add(0)
    await waitFor('the refusal', async () => refused.length === 1 ? true : undefined, 5_000, 5)
    // Twenty backoffs of a network failure pass: still the one attempt.
    await new Promise(resolve => setTimeout(resolve, 20 * backoff.maxMs))
    expect({ submits: refusing.submits.length, refused: refused.map(e => e.code), errors: errors.length }).toEqual({ submits: 1, refused: ['SUBMISSION_REFUSED'], errors: 0 })

    // The control: the same outbox settings retry a network failure at once and again.
    const failing = { ...refusing, submits: [] as number[], failure: new Error('nodes unreachable') }
    const other = await setUp(0, failing, { backoff, refusedBackoffMs: 60_000, onError: err => { errors.push(err) } })
    await other.add(1)
    await waitFor('three attempts', async () => failing.submits.length >= 3 ? true : undefined, 5_000, 5)
  })
})

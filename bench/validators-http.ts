/**
 * Reading validators from outside over their operator HTTP API: status, blocks by height, entries
 * by value, and the waits built on them (every validator idle at one height). The bench and the soak
 * check what the network did only through these, never through its files or internals.
 */
import { waitFor } from '../lib/wait-for.js'
import { mapLimit } from './map-limit.js'

export interface ValidatorStatus { height: number, mempool: number, lastBlockHash: string }
export interface BlockSummary { height: number, blockHash: string, entryCount: number }

const TIMEOUT_MS = 10_000

async function getJson (url: string): Promise<{ status: number, json: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  const text = await res.text()
  return { status: res.status, json: res.ok ? JSON.parse(text) as unknown : undefined }
}

export async function validatorStatus (url: string): Promise<ValidatorStatus> {
  const { status, json } = await getJson(`${url}/status`)
  if (status !== 200) throw new Error(`${url}/status answered ${status}`)
  return json as ValidatorStatus
}

/** The block at `height` as one validator holds it; undefined when it has none there. */
export async function blockSummary (url: string, height: number): Promise<BlockSummary | undefined> {
  const { status, json } = await getJson(`${url}/blocks/${height}`)
  if (status === 404) return undefined
  if (status !== 200) throw new Error(`${url}/blocks/${height} answered ${status}`)
  const stored = json as { block: { header: { entryCount: number } }, commit: { blockHash: string } }
  return { height, blockHash: stored.commit.blockHash, entryCount: stored.block.header.entryCount }
}

/** True when the validator holds the entry `id` (an item's id is its entry) on its chain. */
export async function hasEntry (url: string, id: string): Promise<boolean> {
  const res = await fetch(`${url}/entries/${id}`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  await res.arrayBuffer()
  if (res.status !== 200 && res.status !== 404) throw new Error(`${url}/entries/${id} answered ${res.status}`)
  return res.status === 200
}

/** Entries on one validator's chain, summed over the entry counts of blocks 1..height. */
export async function entriesOnChain (url: string, height: number): Promise<number> {
  const heights = Array.from({ length: height }, (_, i) => i + 1)
  const blocks = await mapLimit(heights, 8, async h => await blockSummary(url, h))
  return blocks.reduce((sum, b) => sum + (b?.entryCount ?? 0), 0)
}

/** Wait until every validator has an empty mempool and all stand at one height; returns it. */
export async function waitIdle (urls: readonly string[], timeoutMs = 120_000): Promise<number> {
  return await waitFor('validators idle at one height', async () => {
    const all = await Promise.all(urls.map(validatorStatus))
    const heights = new Set(all.map(s => s.height))
    return heights.size === 1 && all.every(s => s.mempool === 0) ? all[0]?.height : undefined
  }, timeoutMs, 200)
}

/**
 * Reading the validators from outside, over their HTTP status API: each one's tip (height and
 * block hash) at the end of every phase, and after the run every block of every validator, to
 * check that all of them hold the same block at every height, that every recorded tip is on that
 * chain, and that every certified entry's block is.
 */
import { setTimeout as sleep } from 'node:timers/promises'

export interface Tip { height: number, hash: string }

/** One validator's tip; undefined when it does not answer (down, or cut off from the driver). */
export async function tipOf (url: string): Promise<Tip | undefined> {
  try {
    const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) return undefined
    const status = await res.json() as { height: number, lastBlockHash: string }
    return { height: status.height, hash: status.lastBlockHash }
  } catch {
    return undefined
  }
}

export async function tips (urls: string[]): Promise<Array<Tip | undefined>> {
  return await Promise.all(urls.map(tipOf))
}

async function blockHash (url: string, height: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${url}/blocks/${height}`, { signal: AbortSignal.timeout(10_000) })
      if (res.ok) return (await res.json() as { commit: { blockHash: string } }).commit.blockHash
      if (res.status === 404) throw new Error(`${url} has no block ${height}`)
    } catch (err) {
      if (attempt >= 3) throw err
    }
    await sleep(200)
  }
}

/** Block hashes 1..height as one validator holds them. */
async function chainOf (url: string, height: number): Promise<string[]> {
  const hashes: string[] = new Array<string>(height)
  let next = 1
  const worker = async (): Promise<void> => {
    while (next <= height) {
      const h = next++
      hashes[h - 1] = await blockHash(url, h)
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  return hashes
}

export interface ChainView {
  /** The block hash at each height (index h-1), as the validators holding it agree. */
  hashes: string[]
  /** Heights at which two validators hold different blocks. */
  forks: number[]
}

/** Every block of every validator, compared height by height. */
export async function readChains (urls: string[], heights: number[]): Promise<ChainView> {
  const chains = await Promise.all(urls.map(async (url, i) => await chainOf(url, heights[i] ?? 0)))
  const top = Math.max(0, ...heights)
  const hashes: string[] = []
  const forks: number[] = []
  for (let h = 1; h <= top; h++) {
    const held = new Set(chains.map(c => c[h - 1]).filter((x): x is string => x !== undefined))
    if (held.size > 1) forks.push(h)
    hashes.push([...held][0] as string)
  }
  return { hashes, forks }
}

/** Whether every tip is on the agreed chain and no fork lies at or below the highest of them. */
export function tipsAgree (view: ChainView, recorded: Array<Tip | undefined>): boolean {
  const known = recorded.filter((t): t is Tip => t !== undefined)
  const top = Math.max(0, ...known.map(t => t.height))
  if (view.forks.some(h => h <= top)) return false
  return known.every(t => t.height === 0 || view.hashes[t.height - 1] === t.hash)
}

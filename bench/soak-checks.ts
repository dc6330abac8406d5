/**
 * What the soak checks once the faults have stopped, all from outside through the HTTP APIs:
 * every validator reaches one height; no two validators hold different blocks at any height; every
 * certificate a client received is still served, unchanged, by the service and verifies offline;
 * every certified record is on every validator.
 */
import { isDeepStrictEqual } from 'node:util'
import { verifyCertificate } from '../consensus/certificate.js'
import { certificateFromJson } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'
import { waitFor } from '../lib/wait-for.js'
import type { Target } from './load-protocol.js'
import { mapLimit } from './map-limit.js'
import { blockSummary, hasEntry, validatorStatus } from './validators-http.js'

const CONCURRENCY = 16

/** Wait until every validator stands at least at the highest height any of them had; returns that height. */
export async function convergedHeight (urls: readonly string[], timeoutMs: number): Promise<number> {
  const heights = async (): Promise<number[]> => await Promise.all(urls.map(async u => (await validatorStatus(u)).height))
  const target = Math.max(...await heights())
  await waitFor(`every validator at height ${target}`, async () => (await heights()).every(h => h >= target) ? true : undefined, timeoutMs, 100)
  return target
}

/** Heights 1..upTo at which the validators do not all hold the same block (or one holds none). */
export async function chainMismatches (urls: readonly string[], upTo: number): Promise<{ mismatches: number[], records: number }> {
  const heights = Array.from({ length: upTo }, (_, i) => i + 1)
  const perHeight = await mapLimit(heights, CONCURRENCY, async h => await Promise.all(urls.map(async u => await blockSummary(u, h))))
  const mismatches = heights.filter((_, i) => {
    const blocks = perHeight[i] ?? []
    return blocks.some(b => b === undefined || b.blockHash !== blocks[0]?.blockHash)
  })
  const records = perHeight.reduce((sum, blocks) => sum + (blocks[0]?.entryCount ?? 0), 0)
  return { mismatches, records }
}

/** Ids whose certificate the service no longer serves exactly as the client received it. */
export async function certificatesNotServed (target: Target, ids: readonly string[], certificates: readonly unknown[]): Promise<string[]> {
  const ok = await mapLimit(ids, CONCURRENCY, async (id, i) => {
    const res = await fetch(`${target.serviceUrl}/v1/data/${id}/certificate`, { headers: { authorization: `Bearer ${target.apiKey}` }, signal: AbortSignal.timeout(10_000) })
    const body = await res.json() as unknown
    return res.status === 200 && isDeepStrictEqual(body, certificates[i])
  })
  return ids.filter((_, i) => ok[i] !== true)
}

/** Certificates received that do not verify offline against the genesis. */
export function invalidCertificates (genesis: Genesis, ids: readonly string[], certificates: readonly unknown[]): string[] {
  return ids.filter((_, i) => {
    try {
      return !verifyCertificate(genesis, certificateFromJson(certificates[i])).valid
    } catch {
      return true
    }
  })
}

/** "id on validator i" for every certified id some validator does not serve. */
export async function recordsMissingOnValidators (urls: readonly string[], ids: readonly string[]): Promise<string[]> {
  const pairs = ids.flatMap(id => urls.map((url, v) => ({ id, url, v })))
  const present = await mapLimit(pairs, CONCURRENCY, async p => await hasEntry(p.url, p.id))
  return pairs.filter((_, i) => present[i] !== true).map(p => `${p.id} on validator ${p.v}`)
}

/**
 * Client load and chain inspection for fault tests: several concurrent clients storing data
 * through the service (some waiting for the certificate, some not), keeping what each got back;
 * and reading every validator's chain over its HTTP API to compare them block by block.
 */
export interface LoadResult {
  /** id -> certificate JSON, for every request answered 201 */
  certified: Map<string, unknown>
  /** ids answered 202: accepted, to be certified later */
  accepted: Set<string>
  failures: number
}

export interface Load {
  stop: () => Promise<LoadResult>
  /** Number of 201 answers so far. */
  readonly certifiedCount: number
}

export function startLoad (serviceUrl: () => string, apiKey: string, options: { clients?: number, waitShare?: number } = {}): Load {
  const result: LoadResult = { certified: new Map(), accepted: new Set(), failures: 0 }
  let running = true
  let counter = 0
  const client = async (c: number): Promise<void> => {
    while (running) {
      const n = counter++
      const wait = (n % 10) < 10 * (options.waitShare ?? 0.7)
      try {
        const res = await fetch(`${serviceUrl()}/v1/data?name=load-${c}-${n}${wait ? '' : '&wait=false'}`, {
          method: 'POST',
          body: `load item ${n} from client ${c} at ${Date.now()}`,
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/plain' },
          signal: AbortSignal.timeout(60_000)
        })
        const body = await res.json() as { id: string, certificate?: unknown }
        if (res.status === 201) result.certified.set(body.id, body.certificate)
        else if (res.status === 202) result.accepted.add(body.id)
        else result.failures++
      } catch {
        result.failures++
        // The service may be down on purpose: do not spin.
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
  }
  const clients = Array.from({ length: options.clients ?? 8 }, async (_, c) => await client(c))
  return {
    get certifiedCount () { return result.certified.size },
    stop: async () => {
      running = false
      await Promise.all(clients)
      return result
    }
  }
}

export interface NodeStatus { height: number, lastBlockHash: string, round: number, step: string, mempool: number, peers: string[] }

export async function nodeStatus (url: string): Promise<NodeStatus> {
  const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(5000) })
  if (!res.ok) throw new Error(`${url}/status answered ${res.status}`)
  return await res.json() as NodeStatus
}

/** Hashes of blocks 1..upTo as one validator holds them (each commit names the block it signs). */
export async function chainHashes (url: string, upTo: number): Promise<string[]> {
  const hashes: string[] = []
  for (let h = 1; h <= upTo; h++) {
    const res = await fetch(`${url}/blocks/${h}`, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`${url}/blocks/${h} answered ${res.status}`)
    const stored = await res.json() as { commit: { blockHash: string } }
    hashes.push(stored.commit.blockHash)
  }
  return hashes
}

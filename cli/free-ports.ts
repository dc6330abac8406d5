/**
 * A block of free TCP ports for tests that must know addresses before processes start (validators
 * dial each other by configured address). A random base is tried and every port in the block is
 * bound once to prove it free, so parallel test files do not collide.
 */
import { createServer } from 'node:net'

async function free (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** `offsets` are the ports the caller will use, relative to the returned base. */
export async function freePortBase (offsets: number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768+), where outgoing connections would take our ports.
    const base = 10_000 + Math.floor(Math.random() * 220) * 100
    const results = await Promise.all(offsets.map(async o => await free(base + o)))
    if (results.every(Boolean)) return base
  }
  throw new Error('no free port block found')
}

/** The offsets a cluster of n validators uses (see clusterPorts). */
export function clusterOffsets (n: number): number[] {
  return [...Array.from({ length: n }, (_, i) => i), ...Array.from({ length: n }, (_, i) => 100 + i), 200]
}

/**
 * How `trustnet node` and `trustnet service` run: files they create are the operator's alone
 * (umask 077: stores, logs), and they stop cleanly on SIGINT/SIGTERM or, when a supervisor such as
 * `trustnet cluster` started them, once that supervisor is gone, however it ended.
 */
import { stopOnSignal, stopWithParent } from '../lib/signals.js'

export const PRIVATE_UMASK = 0o077

/** Exit code of a child whose parent vanished before it was ready: it never started. */
const PARENT_GONE_EARLY = 1

/** Start a server with `start` and keep it running until a stop signal or the parent's end. */
export async function runServer<T extends { stop: () => Promise<void> }> (start: () => Promise<T>): Promise<T> {
  process.umask(PRIVATE_UMASK)
  let stopNow: ((reason?: string) => void) | undefined = undefined
  // Watched before starting: the parent may die while the child opens its store or dials peers.
  stopWithParent(() => {
    if (stopNow === undefined) process.exit(PARENT_GONE_EARLY)
    stopNow('parent process gone; stopping')
  })
  const server = await start()
  stopNow = stopOnSignal(server.stop)
  return server
}

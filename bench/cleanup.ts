/**
 * Teardown that must happen however the bench ends: on normal exit the owners run their own
 * `finally`; on Ctrl-C or SIGTERM every registered teardown (clusters, client processes) runs
 * before the process exits, so no validator process or temp directory outlives the bench.
 */
const tasks = new Set<() => Promise<void>>()

/** Register a teardown; call the returned function once it has run normally. */
export function onInterrupt (task: () => Promise<void>): () => void {
  tasks.add(task)
  return () => { tasks.delete(task) }
}

export function installInterruptHandlers (): void {
  let interrupted = false
  const handler = (signal: NodeJS.Signals): void => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`[bench] ${signal}: cleaning up\n`)
    void Promise.allSettled([...tasks].map(async t => await t())).then(() => process.exit(130))
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

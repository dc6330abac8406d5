/**
 * Stop cleanly on SIGINT or SIGTERM: the first signal runs `stop` once and exits 0 (1 if stopping
 * failed); later signals while stopping are ignored, so a second Ctrl-C cannot cut a shutdown short.
 */
export function stopOnSignal (stop: () => Promise<void>, announce?: string): void {
  let stopping = false
  const onSignal = (): void => {
    if (stopping) return
    stopping = true
    if (announce !== undefined) process.stderr.write(`${announce}\n`)
    stop().then(() => process.exit(0), err => {
      process.stderr.write(`error while stopping: ${(err as Error).message}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

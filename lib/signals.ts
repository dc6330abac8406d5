/**
 * Stop cleanly on SIGINT or SIGTERM: the first signal runs `stop` once and exits with `exitCode`
 * (1 if stopping failed); later signals while stopping are ignored, so a second Ctrl-C cannot cut
 * a shutdown short. A server stopped on purpose exits 0; a run cut short says so with 130.
 */
export function stopOnSignal (stop: () => Promise<void>, announce?: string, exitCode = 0): void {
  let stopping = false
  const onSignal = (): void => {
    if (stopping) return
    stopping = true
    if (announce !== undefined) process.stderr.write(`${announce}\n`)
    stop().then(() => process.exit(exitCode), err => {
      process.stderr.write(`error while stopping: ${(err as Error).message}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

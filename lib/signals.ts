/**
 * Stop cleanly on SIGINT or SIGTERM: the first signal runs `stop` once and exits with `exitCode`
 * (1 if stopping failed); later signals while stopping are ignored, so a second Ctrl-C cannot cut
 * a shutdown short. A server stopped on purpose exits 0; a run cut short says so with 130.
 * A process started by a supervisor can also stop when its parent is gone, however the parent
 * ended (`kill -9` included): see stopWithParent.
 */
export function stopOnSignal (stop: () => Promise<void>, announce?: string, exitCode = 0): (reason?: string) => void {
  let stopping = false
  const onSignal = (reason?: string): void => {
    if (stopping) return
    stopping = true
    const line = reason ?? announce
    if (line !== undefined) process.stderr.write(`${line}\n`)
    stop().then(() => process.exit(exitCode), err => {
      process.stderr.write(`error while stopping: ${(err as Error).message}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => onSignal())
  process.on('SIGTERM', () => onSignal())
  return onSignal
}

/**
 * Set by a supervisor that gives its child a stdin pipe and holds the other end: when the
 * supervisor ends, the kernel closes that end, whatever killed it, and the child reads end of file.
 */
export const PARENT_PIPE_ENV = 'TRUSTNET_PARENT_PIPE'

/**
 * When PARENT_PIPE_ENV is '1', call `onGone` once stdin ends (the parent is gone). Returns whether
 * it watches. Call it before a slow start: a parent may die while its child is still starting.
 */
export function stopWithParent (onGone: () => void): boolean {
  if (process.env[PARENT_PIPE_ENV] !== '1') return false
  let called = false
  const gone = (): void => {
    if (called) return
    called = true
    onGone()
  }
  process.stdin.on('end', gone)
  process.stdin.on('close', gone)
  process.stdin.on('error', gone)
  // Nothing is ever written on the pipe; reading is only how its end is seen.
  process.stdin.resume()
  return true
}

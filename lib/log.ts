/**
 * Structured logs (pino) on stderr, so stdout stays free for machine-readable lines. Level from
 * TRUSTNET_LOG. JSON lines by default; readable lines (pino-pretty) when stderr is a terminal.
 * TRUSTNET_LOG_FORMAT=pretty or json forces one or the other.
 */
import { pino, type Logger } from 'pino'
import { PinoPretty } from 'pino-pretty'

export type LogFormat = 'json' | 'pretty'

/** The format asked by `env`, else pretty on a terminal and JSON otherwise. */
export function logFormat (env: NodeJS.ProcessEnv = process.env, isTty: boolean = process.stderr.isTTY === true): LogFormat {
  const asked = env.TRUSTNET_LOG_FORMAT
  if (asked === 'json' || asked === 'pretty') return asked
  return isTty ? 'pretty' : 'json'
}

export function createLogger (name: string, format: LogFormat = logFormat()): Logger {
  const options = { name, level: process.env.TRUSTNET_LOG ?? 'info' }
  // Synchronous, like pino.destination(2): the last lines before an exit are not lost.
  if (format === 'pretty') return pino(options, PinoPretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }))
  return pino(options, pino.destination(2))
}

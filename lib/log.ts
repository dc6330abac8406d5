/** Structured logs (pino) on stderr, so stdout stays free for machine-readable lines. Level from TRUSTNET_LOG. */
import { pino, type Logger } from 'pino'

export function createLogger (name: string): Logger {
  return pino({ name, level: process.env.TRUSTNET_LOG ?? 'info' }, pino.destination(2))
}

/**
 * libp2p's component logger for when its debug output is off. libp2p makes a logger for every
 * stream and connection (`newScope`), and its default one builds three `debug` instances each
 * time, each matching the name against DEBUG and calling isatty(): in profiles that was a visible
 * share of the CPU spent per request stream. With DEBUG unset nothing would be printed anyway, so
 * one inert logger serves every component; with DEBUG set, libp2p keeps its own.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

const ignore = (): void => {}

const inert: Logger = Object.assign(ignore.bind(null), {
  error: ignore,
  trace: ignore,
  enabled: false,
  newScope: (): Logger => inert
})

const quiet: ComponentLogger = { forComponent: () => inert }

/** `undefined` (libp2p's default logger) when DEBUG names anything, else one logger that prints nothing. */
export function libp2pLogger (env: NodeJS.ProcessEnv = process.env): ComponentLogger | undefined {
  return (env.DEBUG ?? '').trim() === '' ? quiet : undefined
}

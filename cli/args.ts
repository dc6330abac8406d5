/** Argument parsers shared by the subcommands: a bad value is a usage error with a clear reason. */
import { InvalidArgumentError } from 'commander'

export function integer (min: number, max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`)
    return n
  }
}

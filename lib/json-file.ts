/**
 * Configuration files: read a JSON file, parse it and check it (with a zod schema, or a parser
 * that throws coded errors), refusing anything wrong with one ConfigError that names the file
 * and, for a schema failure, the offending field (`details.path`). Codes: CONFIG_UNREADABLE (no
 * such file, no permission), CONFIG_INVALID (not JSON, or fails its check); a caller may name
 * others, as the genesis loaders do.
 */
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { CodedError } from './errors.js'

/** A configuration file or value refused: missing, unreadable, not JSON, or failing its check. */
export class ConfigError extends CodedError {
  override readonly name = 'ConfigError'
}

export interface ConfigCodes {
  /** @default 'CONFIG_UNREADABLE' */
  unreadable?: string
  /** Not JSON, or refused by its check. @default 'CONFIG_INVALID' */
  invalid?: string
}

export type Parse<T> = z.ZodType<T> | ((json: unknown) => T)

/** The JSON value in `file`, unchecked. */
export async function readJsonFile (file: string, codes: ConfigCodes = {}): Promise<unknown> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(codes.unreadable ?? 'CONFIG_UNREADABLE', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err })
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ConfigError(codes.invalid ?? 'CONFIG_INVALID', `${file} is not valid JSON: ${(err as Error).message}`, { file }, { cause: err })
  }
}

/** The contents of `file`, parsed and checked by `parse`. */
export async function loadJsonFile<T> (file: string, parse: Parse<T>, codes: ConfigCodes = {}): Promise<T> {
  return checkJson(await readJsonFile(file, codes), parse, file, codes)
}

/**
 * `json` checked by `parse`; `source` names it in errors (a file name, or 'config'). A parser's
 * own coded refusal becomes a ConfigError whose details keep its code as `reason`; any other
 * error from a parser is a bug and passes through.
 */
export function checkJson<T> (json: unknown, parse: Parse<T>, source: string, codes: ConfigCodes = {}): T {
  const code = codes.invalid ?? 'CONFIG_INVALID'
  if (typeof parse !== 'function') {
    const parsed = parse.safeParse(json)
    if (parsed.success) return parsed.data
    const issue = parsed.error.issues[0]
    const path = issue?.path.join('.') ?? ''
    throw new ConfigError(code, `${source}: ${path === '' ? '' : `${path}: `}${issue?.message ?? 'invalid'}`, { file: source, path })
  }
  try {
    return parse(json)
  } catch (err) {
    if (!(err instanceof CodedError)) throw err
    throw new ConfigError(code, `${source}: ${err.message}`, { file: source, reason: err.code }, { cause: err })
  }
}

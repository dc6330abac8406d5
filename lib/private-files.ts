/**
 * Files and directories readable by their owner only: secret seeds, configs holding secrets,
 * logs and data directories. The mode is set where each is created and tightened again when it
 * already exists (a file's mode at creation does not apply to a file being overwritten), so a
 * network created before these modes, or by a looser umask, is made private on its next write.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { chmodSync, openSync } from 'node:fs'

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** Write `data` to `path`, readable and writable by the owner only. */
export async function writePrivateFile (path: string, data: string | Uint8Array, options: { exclusive?: boolean } = {}): Promise<void> {
  await writeFile(path, data, { mode: PRIVATE_FILE_MODE, flag: options.exclusive === true ? 'wx' : 'w' })
  await chmod(path, PRIVATE_FILE_MODE)
}

/**
 * Create `path` (and missing parents) as directories only the owner can list or enter. An existing
 * directory is tightened too, unless `keepExisting` (a directory the user named, such as an output
 * folder that may be their own home, keeps its mode; what we put inside is private anyway).
 */
export async function makePrivateDir (path: string, options: { keepExisting?: boolean } = {}): Promise<void> {
  const created = await mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE })
  if (created === undefined && options.keepExisting === true) return
  try {
    await chmod(path, PRIVATE_DIR_MODE)
  } catch (err) {
    // A directory another user owns (a mounted volume) is theirs to protect; it can still be ours to write.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err
  }
}

/** Open `path` for appending (a log), owner-only; returns the file descriptor. */
export function openPrivateAppend (path: string): number {
  const fd = openSync(path, 'a', PRIVATE_FILE_MODE)
  chmodSync(path, PRIVATE_FILE_MODE)
  return fd
}

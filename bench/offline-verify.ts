/**
 * Offline certificate verification rate on one core, over real certificates collected from the
 * service during the run, in this single-threaded process. By default the full check of each
 * certificate (Merkle inclusion and every one of the quorum's signatures, against the genesis
 * alone), no commit remembered between certificates: the cost of checking certificates from
 * different blocks. With `rememberCommits`, a commit already checked (same header, same
 * signatures) is not checked again: the cost for a holder of many certificates of the same
 * blocks, such as the answer to a batch request. The genesis is prepared once either way.
 * Every certificate must verify; one that does not is an error, not a figure.
 */
import { CertificateVerifier } from '../consensus/certificate.js'
import { defaultEd25519 } from '../consensus/ed25519.js'
import { certificateFromJson } from '../consensus/json.js'
import type { Genesis } from '../consensus/types.js'

export function offlineVerifyRate (genesis: Genesis, certificatesJson: readonly unknown[], durationMs: number, options: { rememberCommits?: boolean } = {}): number {
  if (certificatesJson.length === 0) throw new Error('no certificates were collected to verify')
  // Decoding is the caller's (it happens once per certificate received); the figure is the check itself.
  const certificates = certificatesJson.map(certificateFromJson)
  let verifier = new CertificateVerifier(genesis, defaultEd25519, { rememberCommits: options.rememberCommits === true })
  let count = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < durationMs) {
    for (const cert of certificates) {
      const verdict = verifier.verifyChecked(cert)
      if (!verdict.valid) throw new Error(`a certificate from the service does not verify: ${verdict.reason}: ${verdict.message}`)
    }
    count += certificates.length
    // A fresh verifier each pass: every pass pays for the first check of each block again.
    if (options.rememberCommits === true) verifier = new CertificateVerifier(genesis, defaultEd25519, { rememberCommits: true })
    elapsed = performance.now() - start
  }
  return count / (elapsed / 1000)
}

/**
 * Offline certificate verification rate on one core: the full check of each certificate (Merkle
 * inclusion and every one of the quorum's signatures, against the genesis alone) over real
 * certificates collected from the service during the run, in this single-threaded process. The
 * genesis is prepared once, as a verifier of many certificates would; no commit is remembered
 * between certificates. Every certificate must verify; one that does not is an error, not a figure.
 */
import { CertificateVerifier } from '../../consensus/certificate.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { certificateFromJson } from '../../consensus/json.js'
import type { Genesis } from '../../consensus/types.js'

export function offlineVerifyRate (genesis: Genesis, certificatesJson: readonly unknown[], durationMs: number): number {
  if (certificatesJson.length === 0) throw new Error('no certificates were collected to verify')
  // Decoding is the caller's (it happens once per certificate received); the figure is the check itself.
  const certificates = certificatesJson.map(certificateFromJson)
  const verifier = new CertificateVerifier(genesis, defaultEd25519, { rememberCommits: false })
  let count = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < durationMs) {
    for (const cert of certificates) {
      const verdict = verifier.verifyChecked(cert)
      if (!verdict.valid) throw new Error(`a certificate from the service does not verify: ${verdict.reason}: ${verdict.message}`)
    }
    count += certificates.length
    elapsed = performance.now() - start
  }
  return count / (elapsed / 1000)
}

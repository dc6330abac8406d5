/**
 * `trustnet/client`: reach a trustnet service from code, in Node or a browser. TrustnetClient
 * stores and anchors data, fetches certificates, lists and finds one's items, and asks for
 * verification (checking the validators' signatures itself), and fetches the genesis, pinned by
 * its fingerprint; verifyCertificate checks a certificate offline against the network's genesis.
 */
export {
  TrustnetClient,
  type AnchorResult, type BatchItem, type ItemFailure, type FetchedGenesis, type AttestationJson, type BatchResult, type CallOptions, type CertificateJson, type CertificateResult,
  type DataResult, type HashMetadata, type Hexed, type ItemInfo, type ItemPage, type ListOptions, type ServiceCertificateVerdict,
  type StoreOptions, type StoreResult, type TrustnetClientOptions, type VerifyResult, type WaitOptions
} from './client.js'
export {
  verifyCertificate, tallyAttestations, readGenesis, hashData, fingerprintOf, checkFingerprint,
  type AttestationTally, type CertificateVerdict, type GenesisInput, type PinOptions, type TallyOptions, type ValidCertificate
} from './verify.js'
export { TrustnetClientError, ApiError, NetworkError, BadResponseError, AbortedError, GenesisError } from './errors.js'
export type { CertificateRefusal } from '../consensus/certificate.js'
export type { Certificate, Genesis, RecordMetadata } from '../consensus/types.js'

/**
 * @kbuild/loader, the agent-side library: read and verify an index, learn the
 * host, pick the artifact, download and verify it. It imports nothing of the
 * farm; the S3 SDK is an optional peer, loaded only for s3:// locations.
 */
export * from './index-schema.js';
export {
  KbuildError,
  IntegrityError,
  IndexFormatError,
  UnknownProbeError,
  NetworkError,
  ChecksumError,
  DiskError,
  LoaderErrorCode,
  type KbuildErrorOptions,
} from './errors.js';
export { detectHost, parseOsRelease, distroFromOsRelease, normalizeArch, HOST_BTF_PATH, type HostIdentity } from './host.js';
export { pick, describePick, versionMatches, type PickResult, type PickMode, type PickOptions, type PickedBtf, type Rejection } from './pick.js';
export { readIndex, readIndexFile, type ReadIndexResult } from './read-index.js';
export { readPickIndex, pickFrom } from './pick-index.js';
export type { PickIndex, KernelKey } from './read-shards.js';
export { MANIFEST_KEY, MANIFEST_VERSION, ShardManifest, ShardRef, TrieNode } from './shard-manifest.js';
export {
  fetchArtifacts,
  fetchArtifact,
  type FetchOptions,
  type FetchResult,
  type FetchedProbe,
  type FetchedFile,
} from './fetch.js';
export {
  INDEX_SIGNATURE_KEY,
  IndexSignature, publicKeyFromPem, keyIdOf, verifyIndexBytes,
  type IndexTrust,
  type IndexTrustOptions,
  type IndexTrustResult,
  type RequiredTrust,
} from './signature.js';
export { parseS3Url, resolveS3Settings, S3UrlError, type S3Settings, type S3Location } from './s3-client.js';
export type { SourceOptions } from './index-source.js';
export type { HttpOptions } from './http/client.js';

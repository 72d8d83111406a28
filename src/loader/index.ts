/** The agent-side library: read an index, learn the host, pick the artifact. */
export { ArtifactIndex, IndexArtifact, IndexFailure, IndexKernel, IndexKernelBtf, IndexExternalBtf, INDEX_SCHEMA_VERSION } from './index-schema.js';
export { detectHost, parseOsRelease, distroFromOsRelease, normalizeArch, HOST_BTF_PATH, type HostIdentity } from './host.js';
export { pick, describePick, versionMatches, type PickResult, type PickMode, type PickedBtf, type Rejection } from './pick.js';
export { parseIndex, readIndexFile, IndexFormatError } from './read-index.js';

/**
 * What the kbuild farm shares with the loader beyond the agent API: the index
 * it writes unverified (its own store), signature and S3 helpers, the HTTP
 * client with retry, atomic writes and transfer events. Not for agents: it
 * may change in any release.
 */
export * from './index.js';
export * from './errors.js';
export * from './host.js';
export * from './signature.js';
export * from './s3-client.js';
export * from './index-source.js';
export * from './read-index.js';
export * from './read-shards.js';
export * from './pick-index.js';
export * from './shard-manifest.js';
export * from './http/client.js';
export * from './atomic-file.js';
export * from './transfer-channel.js';
export * from './edit-distance.js';

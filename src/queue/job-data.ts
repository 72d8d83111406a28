import type { IndexArtifact } from '../loader/index-schema.js';
import type { BuildJob } from '../job/types.js';
import type { ExternalBtfRecord } from '../btf/btf-record.js';
import type { SharedFolder } from './shared-folder.js';
import type { PublishCheckSummary } from '../core-check/publish-check.js';

/** What a `build` queue job carries: everything a worker on another machine needs. */
export interface BuildJobData {
  readonly job: BuildJob;
  /** Store URL the artifact goes to (an absolute folder, file:// or s3://). */
  readonly store: string;
  readonly mirrors: Readonly<Record<string, string>>;
  /** Past this, the job fails and its processes are killed. */
  readonly timeoutMs: number;
  /** Folders it uses (a folder store, a btf.archive folder), with the tokens the submitter wrote there. */
  readonly shared?: readonly SharedFolder[];
}

/** A `build` job's return value, kept by BullMQ for status and publishing. */
export interface BuildJobResult {
  readonly status: 'built' | 'skipped';
  /** Non-CO-RE and CO-RE jobs: the object. */
  readonly artifact?: IndexArtifact;
  /** External-BTF jobs: what the kernel got (or that it needs nothing). */
  readonly externalBtf?: ExternalBtfRecord;
  /** `host:pid` of the worker that ran it. */
  readonly worker: string;
  readonly durationMs: number;
}

export interface PublishJobData {
  readonly submission: string;
}

export interface PublishJobResult {
  readonly index: string;
  readonly artifacts: number;
  readonly failures: number;
  /** Builds that finished but could not be published (their object changed in or vanished from the store). */
  readonly unpublished?: readonly { readonly id: string; readonly code: string; readonly message: string }[];
  /** The offline CO-RE check run before publishing (`submit --core-check`). */
  readonly coreCheck?: PublishCheckSummary;
}

export const BUILD = 'build';
export const PUBLISH = 'publish';

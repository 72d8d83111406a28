import { createHash } from 'node:crypto';
import { buildId } from '../job/build-id.js';
import type { BuildJob } from '../job/types.js';

/**
 * The queue id of a build job, computed where the job is submitted. It is the
 * build id (src/job/build-id.ts) over everything known there: probe sources and
 * tweaks, kernel identity, recipe and template, plus every toolchain the
 * workers registered in Redis (src/queue/toolchains.ts; `unregistered` before
 * any worker ran), not the one of whichever worker started last. So an identical
 * resubmission maps onto the same queue jobs and enqueues nothing, and a worker
 * fleet that gains a new compiler gets new ids. The worker still computes the full
 * build id with its own toolchain and skips the build when the store holds it,
 * so even a job the queue no longer remembers builds nothing twice.
 */
export function queueJobId(job: BuildJob, toolchains: string, templateDigest: string, store: string): string {
  // The store is part of the identity: the same build for another store is another job.
  const id = createHash('sha256').update(buildId(job, toolchains, templateDigest)).update(`\0${store}`).digest('hex');
  // BullMQ rejects purely numeric custom ids; a letter prefix also names the kind of job.
  return `b-${id}`;
}

/** A submission is the set of its jobs and where they go: the same set, the same id. */
export function submissionId(jobIds: readonly string[], store: string): string {
  const hash = createHash('sha256').update(store);
  for (const id of [...jobIds].sort()) hash.update(`\0${id}`);
  return `s-${hash.digest('hex').slice(0, 20)}`;
}

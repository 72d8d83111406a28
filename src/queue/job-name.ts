/**
 * BullMQ job names as the dashboard lists them: the kind first (what the
 * worker dispatches on), then what the job is about, so an operator reads
 * "build execve debian 6.1.0-47-cloud-amd64 x86_64" rather than "build" beside
 * a hash id. Jobs queued before names carried a label are a bare kind: the
 * first word is still the kind.
 */
export const JOB_KINDS = ['build', 'verify', 'publish'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export function queueJobName(kind: JobKind, label: string): string {
  return `${kind} ${label}`;
}

/** The kind a job name starts with; undefined for a name no kbuild version wrote. */
export function jobKindOf(name: string): JobKind | undefined {
  const first = name.split(' ', 1)[0];
  return JOB_KINDS.find((kind) => kind === first);
}

import type { S3Settings } from '@kbuild/loader/internal';

/** What the user says they will run; it decides which checks are required. */
export const PURPOSES = ['build', 'farm', 'verify', 'docker', 'load'] as const;
export type Purpose = (typeof PURPOSES)[number];

export interface DoctorContext {
  readonly purposes: ReadonlySet<Purpose>;
  /** Redis to reach: --redis or KBUILD_REDIS_URL (or the default when the farm is required). */
  readonly redisUrl?: string;
  /** --store: a folder, file:// or s3:// URL. */
  readonly store?: string;
  readonly s3: S3Settings;
  /** kernels.yaml (--kernels) asks for the docker executor somewhere. */
  readonly dockerConfigured: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted when the check's time is up. */
  readonly signal: AbortSignal;
}

/**
 * What a check found. `problem` is reported as "missing" when the check is
 * required for what the user will run and as a warning otherwise; `warn` is a
 * warning either way (works, but not as it should); `skipped`: nothing to check.
 */
export type CheckOutcome =
  | { readonly status: 'ok'; readonly detail: string; readonly version?: string }
  | { readonly status: 'problem' | 'warn'; readonly detail: string; readonly fix: string; readonly version?: string }
  | { readonly status: 'skipped'; readonly detail: string };

export interface DoctorCheck {
  /** Stable id, also the module's file name under checks/. */
  readonly id: string;
  readonly title: string;
  /** Required checks turn a problem into "missing" and exit 1. */
  required(context: DoctorContext): boolean;
  run(context: DoctorContext): Promise<CheckOutcome>;
}

export type CheckStatus = 'ok' | 'warn' | 'missing' | 'skipped';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly required: boolean;
  readonly detail: string;
  readonly version?: string;
  readonly fix?: string;
  readonly ms: number;
}

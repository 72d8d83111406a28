import { z } from 'zod';
import { BtfSettings, DistroName, ExecutorKind, KernelRelease, KernelVersion, ProbeName, Tweak } from '../config/kernels-schema.js';
import { BTF_SOURCES } from '../btf/source-names.js';
import { KbuildError } from '../errors.js';
import { bundleDigest } from '../job/probe-bundle.js';
import { ARCHES } from '../kernel/identity.js';
import type { BuildJobData } from './job-data.js';

/**
 * A worker takes jobs from Redis, not from a kernels file it validated itself:
 * it checks every name that becomes a path, key or compiler argument again, and
 * that the probe sources hash to the digest the build id is made of.
 */
const Kernel = z.object({ distro: DistroName, release: KernelRelease, arch: z.enum(ARCHES), version: KernelVersion.optional() });
const ProbeBundle = z.object({
  name: ProbeName,
  entry: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.c$/),
  files: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(c|h)$/), z.string()),
  tweaks: z.array(Tweak),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
// The external-BTF request names an archive URL or folder the worker will read: checked like kernels.yaml checks it.
const ExternalBtf = z.strictObject({
  when: z.enum(['always', 'auto']),
  coreBtfKernel: Kernel,
  coreExecutor: ExecutorKind.optional(),
  sources: z.array(z.enum(BTF_SOURCES)).min(1),
  archive: BtfSettings.shape.archive,
  distroVersion: z.string().regex(/^[0-9][0-9.]{0,15}$/).optional(),
});
const Job = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('non-core'), probe: ProbeBundle, kernel: Kernel, executor: ExecutorKind.optional(), externalBtf: ExternalBtf.optional() }),
  z.strictObject({ kind: z.literal('core'), probe: ProbeBundle, arch: z.enum(ARCHES), btfKernel: Kernel, executor: ExecutorKind.optional() }),
]);
const Data = z.object({
  job: Job,
  store: z.string().refine((s) => s.startsWith('/') || /^[a-z][a-z0-9+.-]*:\/\//i.test(s), 'an absolute folder or a store URL'),
  mirrors: z.record(z.string().regex(/^[a-z][a-z0-9]{1,31}$/), z.string().regex(/^https?:\/\//)),
  timeoutMs: z.number().int().positive(),
});

export function parseBuildJobData(raw: unknown): BuildJobData {
  const parsed = Data.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KbuildError('E_BAD_JOB', `malformed build job: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const probe = parsed.data.job.probe;
  if (probe.files[probe.entry] === undefined) throw new KbuildError('E_BAD_JOB', `malformed build job: probe "${probe.name}" has no ${probe.entry}`);
  if (bundleDigest(probe.entry, probe.files, probe.tweaks) !== probe.digest) {
    throw new KbuildError('E_BAD_JOB', `malformed build job: probe "${probe.name}" sources do not match their digest`);
  }
  return raw as BuildJobData;
}

import { z } from 'zod';
import { BtfSettings, DistroName, ExecutorKind, KernelRelease, KernelVersion } from '../config/kernels-schema.js';
import { BTF_SOURCES } from '../btf/source-names.js';
import { KbuildError } from '../errors.js';
import { ProbeSpec, specDigest } from '../job/probe-spec.js';
import { ARCHES } from '../kernel/identity.js';
import type { BuildJobData } from './job-data.js';
import { SharedFolder } from './shared-folder.js';

/**
 * A worker takes jobs from Redis, not from a kernels file it validated itself:
 * it checks every name that becomes a path, key or compiler argument again, and
 * that the probe's settings hash to the digest the build id is made of (the
 * sources bundle is checked against its sha256 when it is unpacked).
 */
const Kernel = z.object({ distro: DistroName, release: KernelRelease, arch: z.enum(ARCHES), version: KernelVersion.optional() });
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
  z.strictObject({ kind: z.literal('non-core'), probe: ProbeSpec, kernel: Kernel, executor: ExecutorKind.optional() }),
  z.strictObject({ kind: z.literal('core'), probe: ProbeSpec, arch: z.enum(ARCHES), btfKernel: Kernel, executor: ExecutorKind.optional() }),
  z.strictObject({ kind: z.literal('btf'), probe: ProbeSpec, kernel: Kernel, request: ExternalBtf }),
]);
const Data = z.object({
  job: Job,
  store: z.string().refine((s) => s.startsWith('/') || /^[a-z][a-z0-9+.-]*:\/\//i.test(s), 'an absolute folder or a store URL'),
  mirrors: z.record(z.string().regex(/^[a-z][a-z0-9]{1,31}$/), z.string().regex(/^https?:\/\//)),
  timeoutMs: z.number().int().positive(),
  shared: z.array(SharedFolder).max(16).optional(),
});

export function parseBuildJobData(raw: unknown): BuildJobData {
  const parsed = Data.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KbuildError('E_BAD_JOB', `malformed build job: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const probe = parsed.data.job.probe;
  if (specDigest(probe) !== probe.digest) {
    throw new KbuildError('E_BAD_JOB', `malformed build job: probe "${probe.name}" settings do not match their digest`);
  }
  return raw as BuildJobData;
}

import { rm } from 'node:fs/promises';
import type { DistroBuilder } from '../../../builders/types.js';
import { errorMessage, IntegrityError } from '../../errors.js';
import type { Arch, KernelIdentity } from '../../kernel/identity.js';
import type { IndexKernel, IndexVerification } from '../../loader/index-schema.js';
import type { Logger } from '../../log.js';
import type { ArtifactStore } from '../../store/types.js';
import type { VerifyCase, VerifyCaseResult, VerifyKernelResult } from '../types.js';
import type { VerifyEngine } from './engine.js';
import { StoreFiles } from './materialize.js';
import type { CaseOutcome, KernelOutcome } from './outcome.js';
import type { KernelPlan, PlannedCase } from './plan-cases.js';
import { entryOf, retryInconclusive } from './case-entry.js';
import { inputKey, readVerifyRecord, writeVerifyRecord } from './records.js';
import { makeScratch } from '../../util/scratch.js';

export interface VerifyKernelsOptions {
  readonly engine: VerifyEngine;
  /** Where the objects and BTF the plans name are read from, and where verification records go. */
  readonly store: ArtifactStore;
  readonly concurrency: number;
  /** Per kernel: QEMU is killed past it. */
  readonly timeoutMs: number;
  readonly cacheDir: string;
  readonly mirrors: Readonly<Record<string, string>>;
  readonly builderFor: (distro: string) => DistroBuilder | undefined;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Called as each kernel finishes (progress). */
  readonly onKernel?: (outcome: KernelOutcome) => void;
  readonly onStart?: (kernel: KernelIdentity) => void;
}


/**
 * Boots every planned kernel (a bounded pool) and loads its cases, reusing
 * verification records where nothing changed. Never throws for one kernel's
 * trouble: a kernel that cannot boot here is `not-verifiable` with the reason.
 */
export async function verifyKernels(plans: readonly KernelPlan[], options: VerifyKernelsOptions): Promise<KernelOutcome[]> {
  const scratch = await makeScratch('kbuild-verify-');
  const files = new StoreFiles(options.store, scratch);
  const qemu = new Map<Arch, Promise<boolean | string>>();
  const qemuFor = (arch: Arch): Promise<boolean | string> => {
    let got = qemu.get(arch);
    if (got === undefined) {
      got = options.engine.qemuAvailable(arch).catch((err: unknown) => `cannot check for QEMU: ${errorMessage(err)}`);
      qemu.set(arch, got);
    }
    return got;
  };
  const outcomes: KernelOutcome[] = new Array<KernelOutcome>(plans.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (options.signal?.aborted === true) return;
      const i = next++;
      const plan = plans[i];
      if (plan === undefined) return;
      options.onStart?.(plan.kernel);
      const outcome = await verifyOne(plan, options, files, qemuFor);
      outcomes[i] = outcome;
      options.onKernel?.(outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, plans.length)) }, worker));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return outcomes.filter((o) => o !== undefined);
}

async function verifyOne(
  plan: KernelPlan,
  options: VerifyKernelsOptions,
  files: StoreFiles,
  qemuFor: (arch: Arch) => Promise<boolean | string>,
): Promise<KernelOutcome> {
  const { kernel } = plan;
  const unchecked = plan.cases.filter((c) => 'notVerifiable' in c.check);
  const checkable = plan.cases.filter((c) => 'check' in c.check);
  const preset: CaseOutcome[] = unchecked.map((c) => outcomeOf(c, kernel, { result: 'not-verifiable', detail: (c.check as { notVerifiable: string }).notVerifiable }));
  const notVerifiable = (detail: string): KernelOutcome => ({
    kernel,
    status: 'not-verifiable',
    booted: false,
    seconds: 0,
    detail,
    cases: [...preset, ...checkable.map((c) => outcomeOf(c, kernel, { result: 'not-verifiable', detail }))],
  });
  if (checkable.length === 0) return { kernel, status: 'not-verifiable', booted: false, seconds: 0, cases: preset, detail: 'no probe has a check' };
  const builder = options.builderFor(kernel.distro);
  if (builder?.supportsImages !== true) return notVerifiable(`kbuild cannot fetch ${kernel.distro} kernel images yet, so it cannot boot this kernel`);
  const available = await qemuFor(kernel.arch);
  if (available !== true) return notVerifiable(typeof available === 'string' ? available : `no QEMU for ${kernel.arch}`);

  const mirror = options.mirrors[kernel.distro];
  const engineId = await options.engine.engineId(kernel.arch, options.cacheDir, mirror).catch((err: unknown) => {
    options.log.warn({ kernel, err }, 'guest loader not built before verifying; the verify cache is not used for this kernel');
    return undefined;
  });
  const image = await builder
    .fetchImage(kernel, { cacheDir: options.cacheDir, ...(mirror === undefined ? {} : { mirror }), ...(options.signal === undefined ? {} : { signal: options.signal }) })
    .then((fetched) => fetched.package.sha256)
    .catch((err: unknown) => {
      options.log.warn({ kernel, err }, 'kernel image not fetched before verifying; the verify cache is not used for this kernel');
      return undefined;
    });

  // Cases of a probe whose record matches are taken from it; the rest boot.
  const byProbe = groupBy(checkable, (c) => c.probe);
  const cached: CaseOutcome[] = [];
  const toBoot: PlannedCase[] = [];
  const keys = new Map<string, string>();
  for (const [probe, cases] of byProbe) {
    const key = image === undefined || engineId === undefined ? undefined : inputKey({ engine: engineId, kernel, image, cases: cases.map(keyPart) });
    if (key !== undefined) keys.set(probe, key);
    const record = key === undefined ? undefined : await readVerifyRecord(options.store, kernel, probe);
    const reused = record?.inputKey === key ? fromRecord(cases, record?.entries ?? []) : undefined;
    if (reused !== undefined) cached.push(...reused);
    else toBoot.push(...cases);
  }
  if (toBoot.length === 0) return { kernel, status: 'cached', booted: false, seconds: 0, cases: [...preset, ...cached] };

  let request: VerifyCase[];
  try {
    request = await Promise.all(toBoot.map((c) => verifyCase(c, files)));
  } catch (err) {
    // What the index promises is not what the store holds: that is a failed verification, not a missing one.
    const result = err instanceof IntegrityError ? 'failed' : 'not-verifiable';
    const detail = `could not read the objects to verify: ${errorMessage(err)}`;
    return { kernel, status: 'boot-failed', booted: false, seconds: 0, detail, cases: [...preset, ...cached, ...toBoot.map((c) => outcomeOf(c, kernel, { result, detail }))] };
  }
  let result: VerifyKernelResult;
  const boot = (cases: readonly VerifyCase[]): Promise<VerifyKernelResult> =>
    options.engine.verifyKernel({
      kernel,
      cases,
      timeoutMs: options.timeoutMs,
      cacheDir: options.cacheDir,
      ...(mirror === undefined ? {} : { mirror }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  try {
    result = await retryInconclusive(await boot(request), boot);
  } catch (err) {
    // Interrupted (SIGINT/SIGTERM): nothing was learnt about the cases that did not run, so they get no entry.
    if (options.signal?.aborted === true) return { kernel, status: 'boot-failed', booted: false, seconds: 0, detail: 'interrupted', cases: [...preset, ...cached] };
    options.log.warn({ kernel, err }, 'verify engine error');
    const detail = `verify engine error: ${errorMessage(err)}`;
    return { kernel, status: 'boot-failed', booted: false, seconds: 0, detail, cases: [...preset, ...cached, ...toBoot.map((c) => outcomeOf(c, kernel, { result: 'not-verifiable', detail }))] };
  }
  const entries = await Promise.all(toBoot.map((_, i) => entryOf(findResult(result, request[i]!), result, options.store)));
  const booted = toBoot.map((c, i) => outcomeOf(c, kernel, entries[i]!));
  if (result.outcome === 'completed' && !booted.some((b) => b.entry.result === 'inconclusive')) {
    for (const [probe, key] of keys) {
      const mine = booted.filter((b) => b.probe === probe);
      if (mine.length === 0) continue;
      await writeVerifyRecord(options.store, {
        inputKey: key,
        kernel: indexKernel(kernel),
        probe,
        entries: mine.map((b) => ({ artifactPath: b.artifactPath, artifactSha256: b.artifactSha256, mode: b.mode, entry: b.entry })),
      });
    }
  }
  const detail = result.outcome === 'completed' ? undefined : oneLine(result.results[0]?.detail ?? result.consoleTail ?? result.outcome);
  return {
    kernel,
    status: result.outcome,
    booted: result.outcome === 'completed' || result.outcome === 'timeout',
    seconds: result.seconds,
    cases: [...preset, ...cached, ...booted],
    ...(detail === undefined ? {} : { detail }),
  };
}

function keyPart(c: PlannedCase): { mode: string; objectSha256: string; btfSha256?: string; check?: VerifyCase['check'] } {
  return {
    mode: c.mode,
    objectSha256: c.artifact.sha256,
    ...(c.btf === undefined ? {} : { btfSha256: c.btf.sha256 }),
    ...('check' in c.check ? { check: c.check.check } : {}),
  };
}

async function verifyCase(c: PlannedCase, files: StoreFiles): Promise<VerifyCase> {
  if (!('check' in c.check)) throw new Error('unreachable: a case without a check is not booted');
  const objectFile = await files.file(c.artifact, '.o');
  const btfFile = c.mode === 'core-external-btf' && c.btf !== undefined ? await files.file(c.btf, '.btf') : undefined;
  return {
    probe: c.probe,
    mode: c.mode,
    objectFile,
    objectSha256: c.artifact.sha256,
    artifactPath: c.artifact.path,
    ...(btfFile === undefined || c.btf === undefined ? {} : { btfFile, btfSha256: c.btf.sha256 }),
    check: c.check.check,
  };
}

/** Every case of the probe must be in the record, for the same object bytes. */
function fromRecord(cases: readonly PlannedCase[], entries: readonly { artifactPath: string; artifactSha256: string; mode: string; entry: IndexVerification }[]): CaseOutcome[] | undefined {
  const out: CaseOutcome[] = [];
  for (const c of cases) {
    const hit = entries.find((e) => e.artifactPath === c.artifact.path && e.artifactSha256 === c.artifact.sha256 && e.mode === c.mode);
    if (hit === undefined) return undefined;
    out.push({ ...base(c), entry: hit.entry, cached: true });
  }
  return out;
}

function findResult(result: VerifyKernelResult, wanted: VerifyCase): VerifyCaseResult | undefined {
  return result.results.find((r) => r.case.artifactPath === wanted.artifactPath && r.case.mode === wanted.mode && r.case.probe === wanted.probe);
}

function base(c: PlannedCase): Omit<CaseOutcome, 'entry' | 'cached'> {
  return { probe: c.probe, mode: c.mode, artifactPath: c.artifact.path, artifactSha256: c.artifact.sha256, kind: c.artifact.kind, arch: c.artifact.arch };
}

function outcomeOf(c: PlannedCase, kernel: KernelIdentity, entry: Omit<IndexVerification, 'method' | 'kernel' | 'mode'>): CaseOutcome {
  return { ...base(c), entry: { method: 'qemu', kernel: indexKernel(kernel), mode: c.mode, ...entry }, cached: false };
}

export function indexKernel(k: KernelIdentity): IndexKernel {
  return { distro: k.distro, release: k.release, arch: k.arch, ...(k.version === undefined ? {} : { version: k.version }) };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function oneLine(text: string): string {
  return text.trim().split('\n').slice(-1)[0]?.slice(0, 300) ?? text;
}

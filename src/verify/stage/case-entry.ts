import { createHash } from 'node:crypto';
import type { IndexLogBlob, IndexVerification } from '../../loader/index-schema.js';
import type { ArtifactStore } from '../../store/types.js';
import type { VerifyCase, VerifyCaseResult, VerifyKernelResult } from '../types.js';
import { verifierSummary } from '../verifier-log.js';

const DETAIL_MAX = 4096;
/** The index keeps the end of a log (the reason is there); the whole log is a blob. */
const LOG_TAIL_MAX = 16384;
const PROGRAMS_MAX = 512;

/**
 * Cases the emulator left inconclusive (timeout, boot failure) get one more
 * boot of their own; what that boot says replaces the first answer.
 */
export async function retryInconclusive(first: VerifyKernelResult, boot: (cases: readonly VerifyCase[]) => Promise<VerifyKernelResult>): Promise<VerifyKernelResult> {
  const again = first.results.filter((r) => r.result === 'inconclusive').map((r) => r.case);
  if (again.length === 0) return first;
  const second = await boot(again);
  const retried = new Map(second.results.map((r) => [r.case, r]));
  const results = first.results.map((r) => {
    const next = retried.get(r.case);
    if (next === undefined) return r;
    return next.result === 'inconclusive' ? { ...next, detail: `${next.detail ?? 'inconclusive'} (retried once; first: ${r.detail ?? 'inconclusive'})` } : next;
  });
  const outcome = results.some((r) => r.result === 'inconclusive') ? second.outcome : 'completed';
  const bootedRelease = second.bootedRelease ?? first.bootedRelease;
  return { ...second, outcome, seconds: first.seconds + second.seconds, results, ...(bootedRelease === undefined ? {} : { bootedRelease }) };
}

/** verify/logs/<sha256>.log: the whole log, content-addressed so equal logs are stored once. */
export function logBlobKey(sha256: string): string {
  return `verify/logs/${sha256}.log`;
}

async function storeLog(store: ArtifactStore, log: string): Promise<IndexLogBlob> {
  const bytes = Buffer.from(log, 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = logBlobKey(sha256);
  if ((await store.stat(path)) === undefined) await store.putBytes(path, bytes);
  return { path, size: bytes.length, sha256 };
}

export async function entryOf(r: VerifyCaseResult | undefined, kernel: VerifyKernelResult, store: ArtifactStore): Promise<Omit<IndexVerification, 'method' | 'kernel' | 'mode'>> {
  if (r === undefined) return { result: 'inconclusive', detail: `the engine returned no result for this case (${kernel.outcome})`, seconds: kernel.seconds };
  const log = r.verifierLog === undefined || r.verifierLog === '' ? undefined : r.verifierLog;
  const firstError = log === undefined ? undefined : verifierSummary(log);
  const programs = r.programs?.slice(0, PROGRAMS_MAX).map((p) => ({ name: p.name.slice(0, 128), result: p.result, ...(p.detail === undefined ? {} : { detail: p.detail.slice(0, 512) }) }));
  return {
    result: r.result,
    ...(r.detail === undefined ? {} : { detail: r.detail.slice(0, DETAIL_MAX) }),
    ...(kernel.bootedRelease === undefined ? {} : { bootedRelease: kernel.bootedRelease.slice(0, 128) }),
    ...(r.btfSha256 === undefined ? {} : { btfSha256: r.btfSha256 }),
    ...(r.events === undefined ? {} : { events: r.events }),
    ...(programs === undefined || programs.length === 0 ? {} : { programs }),
    ...(log === undefined ? {} : { verifierLog: log.slice(-LOG_TAIL_MAX), log: await storeLog(store, log) }),
    ...(firstError === undefined ? {} : { firstError: firstError.slice(0, 1024) }),
    verifyId: r.verifyId,
    seconds: kernel.seconds,
  };
}


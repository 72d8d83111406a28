import { describePick, fetchArtifacts, type FetchedFile } from '@kbuild/loader';
import { hostOverrides } from '../shared-options.js';
import { formatBytes } from '../../progress/transfer-channel.js';
import { startCommandProgress } from '../../progress/command-progress.js';
import { s3SettingsFrom } from '../s3-options.js';
import { indexTrustFrom, storeFrom, trustLine } from '../store-option.js';

export interface FetchCommandOptions extends Record<string, unknown> {
  readonly dest: string;
  readonly probe?: string[];
  readonly json?: boolean;
}

/** `kbuild fetch`: the loader's start-up from a shell; stdout carries the paths libbpf needs. */
export async function fetchCommand(opts: FetchCommandOptions): Promise<number> {
  const location = storeFrom(opts, 'index');
  const trust = await indexTrustFrom(opts, location);
  const host = hostOverrides(opts);
  // Downloads show as bars on a terminal, lines otherwise; always on stderr, never in --json's stdout.
  const progress = startCommandProgress();
  progress.note(`reading ${location}`);
  const result = await fetchArtifacts({
    index: location,
    dest: opts.dest,
    ...(opts.probe === undefined ? {} : { probes: opts.probe }),
    ...trust,
    host,
    ...(opts['preferCore'] === true ? { preferCore: true } : {}),
    ...(opts['requireVerified'] === true ? { requireVerified: true } : {}),
    s3: s3SettingsFrom(opts),
  }).finally(() => progress.close());
  for (const p of result.probes) {
    for (const [what, f] of [['object', p.object], ['btf', p.btf]] as const) {
      if (f !== undefined) process.stderr.write(`kbuild: ${p.pick.probe} ${what} ${f.key}: ${f.downloaded ? `downloaded and verified (${formatBytes(f.size)})` : 'verified in the cache'}\n`);
    }
  }
  const file = (f: FetchedFile | undefined) => (f === undefined ? undefined : { path: f.path, key: f.key, size: f.size, sha256: f.sha256, downloaded: f.downloaded });
  if (opts.json === true) {
    const probes = result.probes.map((p) => {
      const { host: _host, ...pickResult } = p.pick;
      return { ...pickResult, object: file(p.object), btf: file(p.btf) };
    });
    const read = { via: result.via, files: result.indexReads.length, bytes: result.indexReads.reduce((sum, r) => sum + r.bytes, 0) };
    process.stdout.write(`${JSON.stringify({ index: result.index, trust: result.trust, read, host: result.host, probes }, null, 2)}\n`);
  } else {
    // Explanations to stderr, paths to stdout: `kbuild fetch ... | while read probe what path` works.
    process.stderr.write(`${trustLine(result.trust)}\n`);
    for (const p of result.probes) {
      process.stderr.write(`${describePick(p.pick)}\n`);
      if (p.object !== undefined) process.stdout.write(`${p.pick.probe} object ${p.object.path}\n`);
      if (p.btf !== undefined) process.stdout.write(`${p.pick.probe} btf ${p.btf.path}\n`);
    }
  }
  return result.probes.every((p) => p.object !== undefined) ? 0 : 3;
}

import { describePick, detectHost, pick, readIndex } from '@kbuild/loader';
import { KbuildError } from '../../errors.js';
import { hostOverrides } from '../shared-options.js';
import { s3SettingsFrom } from '../s3-options.js';
import { indexTrustFrom, storeFrom, trustLine } from '../store-option.js';

/** `kbuild pick`: reads the index exactly as `fetch` and `report` do (any location, signature checked), downloads nothing. */
export async function pickCommand(opts: Record<string, string | boolean | undefined>): Promise<number> {
  const location = storeFrom(opts, 'index');
  const { index, trust } = await readIndex(location, { ...(await indexTrustFrom(opts, location)), s3: s3SettingsFrom(opts) });
  const host = await detectHost(hostOverrides(opts));
  const probes = typeof opts['probe'] === 'string' ? [opts['probe']] : [...new Set(index.artifacts.map((a) => a.probe))].sort();
  if (probes.length === 0) throw new KbuildError('E_EMPTY_INDEX', 'the index lists no artifacts', { exitCode: 3 });
  const results = probes.map((probe) => pick(index, host, probe, { preferCore: opts['preferCore'] === true, requireVerified: opts['requireVerified'] === true }));
  if (opts['json'] === true) {
    process.stdout.write(`${JSON.stringify({ host, trust, picks: results.map(({ host: _h, ...rest }) => rest) }, null, 2)}\n`);
  } else {
    process.stderr.write(`${trustLine(trust)}\n`);
    process.stdout.write(`${results.map(describePick).join('\n\n')}\n`);
  }
  // 3: the index has nothing this host can run (distinct from usage errors).
  return results.every((r) => r.choice !== undefined) ? 0 : 3;
}

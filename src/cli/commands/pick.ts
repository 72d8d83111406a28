import { describePick, detectHost, pickFrom, readPickIndex } from '@kbuild/loader';
import { KbuildError } from '../../errors.js';
import { hostOverrides } from '../shared-options.js';
import { s3SettingsFrom } from '../s3-options.js';
import { indexTrustFrom, storeFrom, trustLine } from '../store-option.js';

/**
 * `kbuild pick`: reads what `fetch` reads (the store's signed manifest and this
 * kernel's shard, or index.json of a store without one; signature checked), downloads nothing.
 */
export async function pickCommand(opts: Record<string, string | boolean | undefined>): Promise<number> {
  const location = storeFrom(opts, 'index');
  const trust = await indexTrustFrom(opts, location);
  const host = await detectHost(hostOverrides(opts));
  const view = await readPickIndex(location, host, { ...trust, s3: s3SettingsFrom(opts) });
  const probes = typeof opts['probe'] === 'string' ? [opts['probe']] : [...view.probes];
  if (probes.length === 0) throw new KbuildError('E_EMPTY_INDEX', 'the index lists no artifacts', { exitCode: 3 });
  const results = probes.map((probe) => pickFrom(view, host, probe, { preferCore: opts['preferCore'] === true, requireVerified: opts['requireVerified'] === true }));
  const indexBytes = view.reads.reduce((sum, r) => sum + r.bytes, 0);
  if (opts['json'] === true) {
    const read = { via: view.via, location: view.location, files: view.reads.length, bytes: indexBytes };
    process.stdout.write(`${JSON.stringify({ host, trust: view.trust, read, picks: results.map(({ host: _h, ...rest }) => rest) }, null, 2)}\n`);
  } else {
    process.stderr.write(`${trustLine(view.trust)}; read ${view.via === 'shards' ? 'the manifest and this kernel\'s shard' : 'the whole index'} (${view.reads.length} files, ${indexBytes} bytes)\n`);
    process.stdout.write(`${results.map(describePick).join('\n\n')}\n`);
  }
  // 3: the index has nothing this host can run (distinct from usage errors).
  return results.every((r) => r.choice !== undefined) ? 0 : 3;
}

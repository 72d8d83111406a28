import { KbuildError } from '../../errors.js';
import { detectHost } from '../../loader/host.js';
import { hostOverrides } from '../shared-options.js';
import { describePick, pick } from '../../loader/pick.js';
import { IndexFormatError, readIndexFile } from '../../loader/read-index.js';

export async function pickCommand(opts: Record<string, string | boolean | undefined>): Promise<number> {
  const index = await readIndexFile(String(opts['index'])).catch((err: unknown) => {
    if (err instanceof IndexFormatError) throw new KbuildError(err.code, err.message, { exitCode: 2 });
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new KbuildError('E_INDEX_READ', `${String(opts['index'])}: cannot read the index (${code})`, { exitCode: 2 });
  });
  const host = await detectHost(hostOverrides(opts));
  const probes = typeof opts['probe'] === 'string' ? [opts['probe']] : [...new Set(index.artifacts.map((a) => a.probe))].sort();
  if (probes.length === 0) throw new KbuildError('E_EMPTY_INDEX', 'the index lists no artifacts', { exitCode: 3 });
  const results = probes.map((probe) => pick(index, host, probe, { preferCore: opts['preferCore'] === true, requireVerified: opts['requireVerified'] === true }));
  if (opts['json'] === true) {
    process.stdout.write(`${JSON.stringify({ host, picks: results.map(({ host: _h, ...rest }) => rest) }, null, 2)}\n`);
  } else {
    process.stdout.write(`${results.map(describePick).join('\n\n')}\n`);
  }
  // 3: the index has nothing this host can run (distinct from usage errors).
  return results.every((r) => r.choice !== undefined) ? 0 : 3;
}

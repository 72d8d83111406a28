import { resolve } from 'node:path';
import { readIndex } from '@kbuild/loader';
import { KbuildError } from '../../errors.js';
import { renderReport } from '../../report/render-report.js';
import { summarizeIndex } from '../../report/summary.js';
import { writeFileAtomically } from '@kbuild/loader/internal';
import { s3SettingsFrom } from '../s3-options.js';
import { indexTrustFrom, storeFrom, trustLine } from '../store-option.js';

export interface ReportCommandOptions extends Record<string, unknown> {
  readonly out: string;
  readonly json?: boolean;
}

/** `kbuild report`: reads an index the way `fetch` does and writes the build matrix as one HTML page. */
export async function reportCommand(opts: ReportCommandOptions): Promise<number> {
  const location = storeFrom(opts, 'index');
  const { index, trust, location: where } = await readIndex(location, { ...(await indexTrustFrom(opts, location)), s3: s3SettingsFrom(opts) });
  const out = resolve(opts.out);
  await writeFileAtomically(out, await renderReport(index, { source: where, trust })).catch((err: NodeJS.ErrnoException) => {
    throw new KbuildError('E_REPORT_WRITE', `${out}: cannot write the report (${err.code ?? err.message})`, { exitCode: 2 });
  });
  const summary = summarizeIndex(index);
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ index: where, out, trust, summary }, null, 2)}\n`);
  else {
    process.stderr.write(`${trustLine(trust)}\n`);
    process.stdout.write(`${out}: ${summary.kernels} kernels, ${summary.artifacts} artifacts, ${summary.failures} failure${summary.failures === 1 ? '' : 's'}\n`);
  }
  return 0;
}

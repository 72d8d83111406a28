import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { KbuildError } from '../../errors.js';
import { readVerifiedIndex } from '../../loader/fetch.js';
import { openIndexSource } from '../../loader/index-source.js';
import { renderReport } from '../../report/render-report.js';
import { summarizeIndex } from '../../report/summary.js';
import { writeFileAtomically } from '../../util/atomic-file.js';
import { s3SettingsFrom } from '../s3-options.js';

export interface ReportCommandOptions extends Record<string, unknown> {
  readonly index: string;
  readonly out: string;
  readonly publicKey?: string;
  readonly allowUnsigned?: boolean;
  readonly json?: boolean;
}

/** `kbuild report`: reads an index the way `fetch` does and writes the build matrix as one HTML page. */
export async function reportCommand(opts: ReportCommandOptions): Promise<number> {
  const publicKey =
    opts.publicKey === undefined
      ? undefined
      : await readFile(opts.publicKey).catch((err: NodeJS.ErrnoException) => {
          throw new KbuildError('E_PUBLIC_KEY', `${String(opts.publicKey)}: cannot read the public key (${err.code ?? err.message})`, { exitCode: 2 });
        });
  const { source, indexKey } = await openIndexSource(opts.index, { s3: s3SettingsFrom(opts) });
  try {
    const { index, trust } = await readVerifiedIndex(source, indexKey, {
      ...(publicKey === undefined ? {} : { publicKey }),
      ...(opts.allowUnsigned === true ? { allowUnsigned: true } : {}),
    });
    const where = `${source.location}/${indexKey}`;
    const out = resolve(opts.out);
    await writeFileAtomically(out, await renderReport(index, { source: where, trust })).catch((err: NodeJS.ErrnoException) => {
      throw new KbuildError('E_REPORT_WRITE', `${out}: cannot write the report (${err.code ?? err.message})`, { exitCode: 2 });
    });
    const summary = summarizeIndex(index);
    if (opts.json === true) process.stdout.write(`${JSON.stringify({ index: where, out, trust, summary }, null, 2)}\n`);
    else {
      process.stderr.write(`${trust.signed ? `index signed by key ${trust.keyId}` : 'index NOT signed (--allow-unsigned)'}\n`);
      process.stdout.write(`${out}: ${summary.kernels} kernels, ${summary.artifacts} artifacts, ${summary.failures} failure${summary.failures === 1 ? '' : 's'}\n`);
    }
    return 0;
  } finally {
    await source.close();
  }
}

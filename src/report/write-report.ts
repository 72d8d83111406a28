import { KbuildError } from '../errors.js';
import type { ArtifactIndex } from '@kbuild/loader';
import { parseIndex } from '@kbuild/loader/internal';
import { assertSafeKey, INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';
import { renderReport, type ReportOptions } from './render-report.js';

/** report.html lives beside index.json, so whoever can read the index can open the matrix. */
export const REPORT_KEY = assertSafeKey(INDEX_KEY.replace(/index\.json$/, 'report.html'));

/** Renders the index's report and stores it as report.html next to index.json; returns where. */
export async function writeReportBesideIndex(store: ArtifactStore, index: ArtifactIndex, options: ReportOptions = {}): Promise<string> {
  const html = await renderReport(index, { source: `${store.location}/${INDEX_KEY}`, ...options });
  await store.putBytes(REPORT_KEY, Buffer.from(html));
  return `${store.location}/${REPORT_KEY}`;
}

/** The report of what the store's index.json holds now (after a farm published it); its signature is not checked. */
export async function writeReportOfStoredIndex(store: ArtifactStore): Promise<string> {
  const bytes = await store.get(INDEX_KEY);
  if (bytes === undefined) throw new KbuildError('E_INDEX_NOT_FOUND', `${store.location}/${INDEX_KEY} does not exist`);
  return writeReportBesideIndex(store, parseIndex(bytes.toString('utf8'), `${store.location}/${INDEX_KEY}`));
}

/**
 * After a publish the index is out and the exit code already says how the
 * builds went: a report that cannot be written is a note on stderr, not a
 * failed build.
 */
export async function reportAfterPublish(write: () => Promise<string>): Promise<string | undefined> {
  try {
    const where = await write();
    process.stderr.write(`kbuild: report: ${where}\n`);
    return where;
  } catch (err) {
    process.stderr.write(`kbuild: note: report.html not written: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  }
}


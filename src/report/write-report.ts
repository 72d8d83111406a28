import { assertSafeKey, INDEX_KEY } from '../store/keys.js';
import type { ArtifactStore } from '../store/types.js';
import type { ArtifactIndex } from '../loader/index-schema.js';
import { renderReport, type ReportOptions } from './render-report.js';

/** report.html lives beside index.json, so whoever can read the index can open the matrix. */
export const REPORT_KEY = assertSafeKey(INDEX_KEY.replace(/index\.json$/, 'report.html'));

/** Renders the index's report and stores it as report.html next to index.json; returns where. */
export async function writeReportBesideIndex(store: ArtifactStore, index: ArtifactIndex, options: ReportOptions = {}): Promise<string> {
  const html = await renderReport(index, { source: `${store.location}/${INDEX_KEY}`, ...options });
  await store.putBytes(REPORT_KEY, Buffer.from(html));
  return `${store.location}/${REPORT_KEY}`;
}

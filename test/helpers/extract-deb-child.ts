/**
 * Test support only: run in a child process (`node --max-old-space-size=...
 * --import tsx extract-deb-child.ts <deb> <member|prefix> <dest> <mode>`),
 * extracts from a .deb and prints what it cost as JSON: the RSS the process
 * had before the extraction and its peak (maxRSS, bytes) after.
 */
import { extractDebMember, extractDebPrefix } from '../../src/archive/deb.js';

const [deb, what, dest, mode] = process.argv.slice(2);
if (deb === undefined || what === undefined || dest === undefined || (mode !== 'member' && mode !== 'prefix')) {
  throw new Error('usage: extract-deb-child.ts <deb> <member|prefix> <dest> member|prefix');
}
const baselineRss = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
const stats = mode === 'member' ? await extractDebMember(deb, what, dest) : await extractDebPrefix(deb, what, dest);
process.stdout.write(
  `${JSON.stringify({ baselineRss, maxRss: process.resourceUsage().maxRSS * 1024, ms: performance.now() - started, files: 'files' in stats ? stats.files : 1 })}\n`,
);

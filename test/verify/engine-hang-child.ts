/**
 * Run by engine-timeout.test.ts in a process of its own: boots a guest that
 * never finishes, prints QEMU's process group id, and waits to be killed.
 */
import { cacheRoot } from '../../src/cache/cache-dir.js';
import { verifyKernel } from '../../src/verify/verify-kernel.js';
import { KERNELS } from './engine-fixtures.js';

await verifyKernel(
  { kernel: KERNELS.x86_64, cases: [], timeoutMs: 120_000, cacheDir: cacheRoot() },
  { hangGuest: true, onQemuStart: (pid) => process.stdout.write(`QEMU-GROUP ${pid}\n`) },
);

/** Slow: extracts the BTF of the real Debian 6.1.0-50 images (fetched by the Debian builder) and runs bpftool. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExecError } from '../exec/exec.js';
import { ARCHES } from '../kernel/identity.js';
import { extractBtfFromImage } from './extract-image.js';
import { TEST_KERNELS, testKernelImage } from '../../test/helpers/kernel-images.js';
import { generateVmlinuxHeader } from './vmlinux-header.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbuild-vmlinux-h-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Something only the right arch's kernel has, so a header from the wrong kernel fails. */
const ARCH_MARKER = {
  x86_64: /^struct pt_regs \{\n\tlong unsigned int r15;/m,
  arm64: /^struct user_pt_regs \{\n\t__u64 regs\[31\];/m,
} as const;

describe('generateVmlinuxHeader', () => {
  for (const arch of ARCHES) {
    it(`writes vmlinux.h from the BTF of the real ${TEST_KERNELS[arch].release} image`, async (t) => {
      const btfPath = join(dir, `${arch}.btf`);
      await writeFile(btfPath, await extractBtfFromImage(await testKernelImage(TEST_KERNELS[arch]), arch));
      const outPath = join(dir, arch, 'include', 'vmlinux.h');
      const started = performance.now();
      await generateVmlinuxHeader(btfPath, outPath);
      const header = await readFile(outPath, 'utf8');
      t.diagnostic(`${arch}: vmlinux.h of ${header.length} bytes in ${Math.round(performance.now() - started)} ms`);
      assert.match(header, /^struct task_struct \{$/m);
      assert.match(header, ARCH_MARKER[arch]);
      assert.match(header, /#endif \/\* __VMLINUX_H__ \*\/\s*$/);
      assert.deepEqual(await readdir(join(dir, arch, 'include')), ['vmlinux.h']);
    });
  }

  it('keeps bpftool output on failure and leaves no file behind', async () => {
    const bad = join(dir, 'bad.btf');
    const btf = await extractBtfFromImage(await testKernelImage(TEST_KERNELS.arm64), 'arm64');
    await writeFile(bad, btf.subarray(0, 1000));
    const outPath = join(dir, 'bad', 'vmlinux.h');
    await assert.rejects(generateVmlinuxHeader(bad, outPath), (err: unknown) => {
      assert.ok(err instanceof ExecError);
      assert.match(err.stderr, /failed to load BTF/);
      return true;
    });
    await assert.rejects(readdir(join(dir, 'bad')), { code: 'ENOENT' });
  });
});

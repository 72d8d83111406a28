import { execa } from 'execa';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

let built: Promise<string> | undefined;

/** Compiles test/helpers/btf-custom-load.c against the system libbpf (libbpf-dev), once per process. */
function loaderBinary(): Promise<string> {
  built ??= (async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'kbuild-loader-')), 'btf-custom-load');
    await execa('cc', ['-O2', '-Wall', '-o', out, join(REPO_ROOT, 'test/helpers/btf-custom-load.c'), '-lbpf']);
    return out;
  })();
  return built;
}

/** Loads a CO-RE object into this kernel with libbpf's btf_custom_path; `log` is libbpf's debug output. */
export async function loadWithCustomBtf(object: string, btf: string): Promise<{ ok: boolean; log: string }> {
  const result = await execa(await loaderBinary(), [object, btf], { reject: false });
  return { ok: result.exitCode === 0, log: `${String(result.stdout)}${String(result.stderr)}` };
}

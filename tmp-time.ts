import { compileNonCore } from './src/job/compile.ts';
import { LocalExecutor } from './src/executor/local.ts';
import { buildConfig, renderKbuildConfig } from './src/job/build-config.ts';
import { versionCodeOf } from './src/kernel/version-header.ts';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
const base = new LocalExecutor();
const times: Record<string, number> = {};
const ex = { name: 'x', toolchainId: () => base.toolchainId(), run: async (s: any, sig: any) => { const t = performance.now(); const r = await base.run(s, sig); const k = s.argv[0]; times[k] = (times[k] ?? 0) + performance.now() - t; return r; } };
const src = '/var/cache/kbuild/trees/17c8cdeedb2a25e4e6038c5256c5122209b7edb100f73aef3f36fe782c93753f/usr/src';
const flavour = `${src}/linux-headers-6.1.0-50-cloud-amd64`, common = `${src}/linux-headers-6.1.0-50-common`;
for (let i = 0; i < 4; i++) {
  const work = await mkdtemp('/tmp/ctime-');
  const t = performance.now();
  const vc = (await versionCodeOf(flavour)) ?? 0;
  await compileNonCore(ex as any, { probeDir: '/work/main/probes/execve', entry: 'execve.bpf.c', arch: 'x86_64', headers: { flavour, common }, configHeader: await renderKbuildConfig(buildConfig('6.1.0-50-cloud-amd64', vc, [])), workDir: `${work}/w`, output: `${work}/o.o` });
  const sha = createHash('sha256').update(await readFile(`${work}/o.o`)).digest('hex').slice(0, 12);
  console.log(sha, 'total', (performance.now() - t).toFixed(0), JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)]))));
  for (const k of Object.keys(times)) delete times[k];
}

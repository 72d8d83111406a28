/**
 * Slow: a project with its own 3 MB vmlinux.h through the farm. The queued
 * jobs name the sources bundle instead of carrying it; a worker on "another
 * machine" (an empty cache of its own) takes the bundle from the store,
 * checks it and builds; the project's bytes travel once.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { execa } from 'execa';
import { ArtifactIndex } from '../../src/loader/index-schema.js';
import { BULL_PREFIX } from '../../src/queue/settings.js';
import { kbuild } from '../helpers/cli.js';
import { farmFixture, REDIS_URL } from '../helpers/farm.js';
import { loadIntoHostKernel } from '../helpers/bpffs.js';

const PROGRAM = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "lib/pid.h"
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } seen SEC(".maps");
SEC("kprobe/do_nanosleep")
int on_sleep(void *ctx) {
  __u32 pid = current_tgid();
  __u64 one = 1;
  bpf_map_update_elem(&seen, &pid, &one, BPF_ANY);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
const PID_H = `#pragma once
static __always_inline __u32 current_tgid(void) {
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  return BPF_CORE_READ(t, tgid);
}
`;

describe('a project bundle through the farm (real Redis, real Debian kernel, slow)', { timeout: 20 * 60 * 1000 }, () => {
  let work: string;
  const farm = farmFixture();
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'kbuild-farm-project-'));
    await mkdir(join(work, 'sleeper', 'lib'), { recursive: true });
    await mkdir(join(work, 'sleeper', 'include'), { recursive: true });
    // The project's own vmlinux.h, as projects vendor it: this machine's BTF as C (about 3 MB).
    const { stdout } = await execa('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 64 << 20 });
    await writeFile(join(work, 'sleeper', 'include', 'vmlinux.h'), stdout);
    await writeFile(join(work, 'sleeper', 'sleeper.bpf.c'), PROGRAM);
    await writeFile(join(work, 'sleeper', 'lib', 'pid.h'), PID_H);
    await writeFile(
      join(work, 'kernels.yaml'),
      `probes:
  - name: sleeper
    root: sleeper
    sources: [sleeper.bpf.c]
    builds: [core]
    vmlinux: include/vmlinux.h
    uapi: false
kernels:
  - { distro: debian, release: 6.1.0-50-cloud-amd64, arch: x86_64, btf: true }
`,
    );
  });
  after(async () => {
    await farm.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('jobs name the bundle; a worker with an empty cache fetches it from the store and builds', async () => {
    const vmlinuxBytes = (await stat(join(work, 'sleeper', 'include', 'vmlinux.h'))).size;
    assert.ok(vmlinuxBytes > 1 << 20, `the vendored vmlinux.h is big (${vmlinuxBytes} bytes)`);
    const q = farm.queue('bundle');
    const store = join(work, 'store');
    const submitted = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', q, '--redis', REDIS_URL]);
    assert.equal(submitted.exitCode, 0, submitted.stderr);

    // What Redis holds per job: the spec and the bundle's address, not the 3 MB of sources.
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(q, { connection: redis, prefix: BULL_PREFIX });
    try {
      const jobs = (await queue.getJobs(['waiting', 'prioritized', 'delayed'])).filter((j) => j.name.startsWith('build '));
      assert.equal(jobs.length, 1);
      const data = JSON.stringify(jobs[0]!.data);
      assert.ok(data.length < 16 * 1024, `a queued job is ${data.length} bytes`);
      const bundle = (jobs[0]!.data as { job: { probe: { bundle: { sha256: string; size: number } } } }).job.probe.bundle;
      const tar = await stat(join(store, 'bundles', `${bundle.sha256}.tar`));
      assert.equal(tar.size, bundle.size, 'the bundle is in the store before any job runs');
    } finally {
      await queue.close();
      await redis.quit();
    }

    // "Another machine": nothing in its cache.
    const cache = join(work, 'worker-cache');
    const worker = await farm.worker(q, { KBUILD_CACHE_DIR: cache });
    const waited = await kbuild(['submit', '--kernels', join(work, 'kernels.yaml'), '--store', store, '--queue', q, '--redis', REDIS_URL, '--wait', '--json']);
    assert.equal(waited.exitCode, 0, `${waited.stderr}\n${worker.output()}`);
    const index = ArtifactIndex.parse(JSON.parse(await readFile(join(store, 'index.json'), 'utf8')));
    assert.deepEqual(index.artifacts.map((a) => a.path), ['core/x86_64/sleeper.o']);
    assert.ok((await readdir(join(cache, 'debs'))).length >= 1, 'the worker cached the bundle it fetched');
    const loaded = await loadIntoHostKernel(join(store, 'core/x86_64/sleeper.o'));
    assert.ok(loaded.ok, loaded.output);
  });
});

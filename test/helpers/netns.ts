import { execa } from 'execa';
import { randomBytes, randomInt } from 'node:crypto';

/**
 * Machines of a test's own: network namespaces ("hosts") joined to this
 * machine by veth pairs on one bridge. This machine is the third host, at
 * `hostAddr` on the bridge: services a test starts there (Redis, an S3 server)
 * bound to that address are what the namespaces reach; nothing else is.
 */
export interface NetLab {
  readonly hostAddr: string;
  readonly hosts: readonly LabHost[];
  /** Removes the namespaces, links and bridge; idempotent. */
  destroy(): Promise<void>;
}

export interface LabHost {
  readonly ns: string;
  readonly addr: string;
  /**
   * Runs a command in the namespace, in a mount namespace of its own with a
   * fresh tmpfs over each of `ownDisks` (the paths exist on this machine):
   * what it writes there no other host sees. The command is exec'd, so its
   * pid is the child's and signals reach it.
   */
  wrap(ownDisks?: readonly string[]): string[];
  /** Unplugs (or plugs back) its cable: the veth end on this machine goes down (up). */
  cut(): Promise<void>;
  restore(): Promise<void>;
}

const ip = (...args: string[]) => execa('ip', args);

export async function netLab(count: number): Promise<NetLab> {
  const id = randomBytes(2).toString('hex');
  // One /24 per lab, picked at random so two labs (or leftovers) rarely meet.
  const net = `10.${randomInt(200, 250)}.${randomInt(0, 256)}`;
  const bridge = `kb${id}br`;
  const created: (() => Promise<unknown>)[] = [];
  const lab: NetLab = {
    hostAddr: `${net}.1`,
    hosts: [],
    async destroy() {
      for (const undo of created.splice(0).reverse()) await undo().catch(() => undefined);
    },
  };
  try {
    await ip('link', 'add', bridge, 'type', 'bridge');
    created.push(() => ip('link', 'del', bridge));
    await ip('addr', 'add', `${lab.hostAddr}/24`, 'dev', bridge);
    await ip('link', 'set', bridge, 'up');
    const hosts: LabHost[] = [];
    for (let i = 0; i < count; i++) {
      const ns = `kb${id}n${i}`;
      const outer = `kb${id}h${i}`;
      const inner = `kb${id}p${i}`;
      const addr = `${net}.${10 + i}`;
      await ip('netns', 'add', ns);
      created.push(() => ip('netns', 'del', ns));
      await ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      created.push(() => ip('link', 'del', outer));
      await ip('link', 'set', inner, 'netns', ns);
      await ip('link', 'set', outer, 'master', bridge, 'up');
      await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', inner);
      await ip('-n', ns, 'link', 'set', inner, 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      hosts.push({
        ns,
        addr,
        wrap: (ownDisks = []) => [
          'ip', 'netns', 'exec', ns, 'sh', '-c',
          // `ip netns exec` has already unshared the mount namespace (slave to this one): these mounts stay inside.
          'for d in "$@"; do [ "$d" = -- ] && break; mount -t tmpfs kbuild-own-disk "$d" || exit 97; done; while [ "$1" != -- ]; do shift; done; shift; exec "$@"',
          'sh', ...ownDisks, '--',
        ],
        cut: async () => void (await ip('link', 'set', outer, 'down')),
        restore: async () => void (await ip('link', 'set', outer, 'up')),
      });
    }
    return { ...lab, hosts };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

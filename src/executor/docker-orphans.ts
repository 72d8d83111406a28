import type Docker from 'dockerode';
import { hostname } from 'node:os';

/**
 * Every build container carries who made it. A worker killed outright
 * (SIGKILL, power loss) cannot remove its containers; the next executor
 * opened on the same host removes those whose process is gone.
 */

export function ownerLabels(): Record<string, string> {
  return { 'kbuild.executor': 'docker', 'kbuild.host': hostname(), 'kbuild.pid': String(process.pid) };
}

export async function removeOrphans(docker: Docker): Promise<string[]> {
  const mine = await docker.listContainers({ all: true, filters: { label: ['kbuild.executor=docker', `kbuild.host=${hostname()}`] } });
  const orphans = mine.filter((c) => !processAlive(Number(c.Labels['kbuild.pid'])));
  await Promise.all(
    orphans.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return orphans.map((c) => c.Id);
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

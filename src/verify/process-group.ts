import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Members of a process group that still run, from /proc. Zombies do not
 * count: a killed QEMU whose parent (timeout(1)) died with it is reaped by
 * init, on init's schedule, and holds nothing but its process table slot.
 */
export async function liveMembers(pgid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[2]) === pgid) found.push(Number(name));
  }
  return found;
}

/** Waits (up to `ms`) until no member of the group runs; true when none does. */
export async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; ; await sleep(50)) {
    if ((await liveMembers(pgid)).length === 0) return true;
    if (Date.now() >= deadline) return false;
  }
}

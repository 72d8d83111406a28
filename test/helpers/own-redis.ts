import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A redis-server of the test's own on a free loopback port, keeping nothing
 * on disk, that the test may kill and restart (empty) without touching the
 * shared Redis at 6379.
 */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * `aofDir`: keep an append-only file there, so a restart (after a clean stop) finds everything again.
 * `bind`: the address it listens on (default 127.0.0.1), e.g. a bridge address that network namespaces reach.
 */
export async function ownRedis(options: { aofDir?: string; bind?: string } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const host = options.bind ?? '127.0.0.1';
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    url: `redis://${host}:${port}`,
    port,
    async start() {
      const persistence = options.aofDir === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.aofDir];
      // Off the loopback Redis refuses clients without a password; the test's bridge is reachable from its namespaces only.
      const protectedMode = host === '127.0.0.1' ? [] : ['--protected-mode', 'no'];
      child = spawn('redis-server', ['--port', String(port), '--bind', host, '--save', '', ...protectedMode, ...persistence], { stdio: 'ignore' });
      for (let i = 0; i < 100; i++) {
        const ping = await execa('redis-cli', ['-h', host, '-p', String(port), 'ping'], { reject: false });
        if (ping.stdout.trim() === 'PONG') return;
        await sleep(50);
      }
      await own.stop();
      throw new Error(`redis-server on ${host}:${port} did not start`);
    },
    async stop() {
      if (child === undefined) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      child = undefined;
    },
  };
  await own.start();
  return own;
}

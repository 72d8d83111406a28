/**
 * Runs a compose file's services with the project's Docker engine through
 * dockerode, for engines without the `docker compose` plugin (this machine's:
 * Debian's docker.io has none, and the archive's docker-compose 1.29 predates
 * the compose spec this file uses). It reads the file as compose does for the
 * subset deploy/compose.yaml uses: YAML merge keys, `${VAR:-default}` and `$$`
 * interpolation, image, entrypoint, command, working_dir, environment (a null value passes
 * the variable on when set), host network, named volumes (prefixed with the
 * project name, as compose does) and bind mounts relative to the file,
 * healthchecks, and depends_on with service_started, service_healthy and
 * service_completed_successfully. Anything else in a service is refused, so the
 * file cannot grow a setting this runner silently ignores.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Docker from 'dockerode';
import { parse } from 'yaml';

interface Service {
  image: string;
  network_mode?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | null>;
  volumes?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; retries?: number };
  stop_grace_period?: string;
  working_dir?: string;
}

const KNOWN = new Set(['image', 'network_mode', 'entrypoint', 'command', 'environment', 'volumes', 'depends_on', 'healthcheck', 'stop_grace_period', 'working_dir']);

export interface ComposeProject {
  readonly services: readonly string[];
  readonly containers: ReadonlyMap<string, Docker.Container>;
  /** `docker compose up -d`: every service, dependencies first, waiting for the conditions they name. */
  up(): Promise<void>;
  logs(service: string): Promise<string>;
  /** `docker compose down -v`: containers and named volumes removed, each even if another fails. */
  down(): Promise<void>;
}

function interpolate(value: unknown, vars: Readonly<Record<string, string>>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{(\w+)(?::-([^}]*))?\}/g, (m, name: string | undefined, fallback: string | undefined) =>
      m === '$$' ? '$' : (vars[name!] ?? fallback ?? ''),
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)]));
  return value;
}

export async function composeProject(file: string, project: string, vars: Readonly<Record<string, string>>, docker = new Docker()): Promise<ComposeProject> {
  const raw = parse(await readFile(file, 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
  const services = interpolate(raw.services, vars) as Record<string, Service>;
  for (const [name, s] of Object.entries(services)) {
    const unknown = Object.keys(s).filter((k) => !KNOWN.has(k));
    if (unknown.length > 0) throw new Error(`${file}: service ${name} uses ${unknown.join(', ')}, which the test's compose runner does not implement`);
    if (s.network_mode !== 'host') throw new Error(`${file}: service ${name} is not on the host network`);
  }
  const volumeNames = Object.keys(raw.volumes ?? {});
  const containers = new Map<string, Docker.Container>();
  const createdVolumes: string[] = [];
  const started = new Map<string, Promise<void>>();

  const deps = (s: Service): [string, string][] =>
    Array.isArray(s.depends_on) ? s.depends_on.map((d) => [d, 'service_started']) : Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition]);

  async function waitFor(name: string, condition: string): Promise<void> {
    const container = containers.get(name)!;
    const service = services[name]!;
    for (let i = 0; i < 600; i++) {
      const state = (await container.inspect()).State;
      if (condition === 'service_completed_successfully') {
        if (!state.Running && state.Status === 'exited') {
          if (state.ExitCode === 0) return;
          throw new Error(`${name} exited ${state.ExitCode}:\n${await logsOf(container)}`);
        }
      } else if (!state.Running) {
        throw new Error(`${name} stopped (${state.Status}, exit ${state.ExitCode}):\n${await logsOf(container)}`);
      } else if (condition === 'service_started') {
        return;
      } else if (condition === 'service_healthy') {
        const test = service.healthcheck?.test;
        if (test === undefined || test[0] !== 'CMD') throw new Error(`${name}: service_healthy needs a CMD healthcheck`);
        if ((await execIn(container, test.slice(1))) === 0) return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`${name} never reached ${condition}`);
  }

  function start(name: string): Promise<void> {
    let p = started.get(name);
    if (p === undefined) {
      p = (async () => {
        const s = services[name]!;
        for (const [dep, condition] of deps(s)) {
          await start(dep);
          await waitFor(dep, condition);
        }
        const binds: string[] = [];
        for (const v of s.volumes ?? []) {
          const [source, target, mode] = v.split(':') as [string, string, string?];
          if (volumeNames.includes(source)) {
            const volume = `${project}_${source}`;
            if (!createdVolumes.includes(volume)) {
              await docker.createVolume({ Name: volume, Labels: { 'com.docker.compose.project': project } });
              createdVolumes.push(volume);
            }
            binds.push(`${volume}:${target}${mode === undefined ? '' : `:${mode}`}`);
          } else {
            binds.push(`${resolve(dirname(file), source)}:${target}${mode === undefined ? '' : `:${mode}`}`);
          }
        }
        const env = Object.entries(s.environment ?? {}).flatMap(([k, v]) => (v === null ? (vars[k] === undefined ? [] : [`${k}=${vars[k]}`]) : [`${k}=${String(v)}`]));
        const container = await docker.createContainer({
          name: `${project}-${name}-1`,
          Image: s.image,
          Env: env,
          Labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': name },
          ...(s.entrypoint === undefined ? {} : { Entrypoint: s.entrypoint }),
          ...(s.command === undefined ? {} : { Cmd: s.command }),
          ...(s.working_dir === undefined ? {} : { WorkingDir: s.working_dir }),
          HostConfig: { NetworkMode: 'host', Binds: binds },
        });
        containers.set(name, container);
        await container.start();
      })();
      started.set(name, p);
    }
    return p;
  }

  return {
    services: Object.keys(services),
    containers,
    async up() {
      for (const name of Object.keys(services)) await start(name);
    },
    logs: (service) => logsOf(containers.get(service)!),
    async down() {
      // Dependents first, as compose stops them; SIGTERM, then a kill after a grace period.
      const order = [...containers.entries()].reverse();
      await Promise.allSettled(order.map(([, c]) => c.stop({ t: 20 }).catch(() => undefined)));
      await Promise.allSettled(order.map(([, c]) => c.remove({ force: true })));
      await Promise.allSettled(createdVolumes.map((v) => docker.getVolume(v).remove()));
    },
  };
}

async function logsOf(container: Docker.Container): Promise<string> {
  const buffer = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  // Multiplexed frames: an 8-byte header before each chunk.
  const out: string[] = [];
  for (let i = 0; i + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(i + 4);
    out.push(buffer.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  return out.join('');
}

async function execIn(container: Docker.Container, cmd: string[]): Promise<number> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  await new Promise<void>((r) => {
    stream.on('end', () => r());
    stream.on('close', () => r());
    stream.resume();
  });
  return (await exec.inspect()).ExitCode ?? 1;
}

import Docker from 'dockerode';
import { DockerUnavailableError } from '../errors.js';

/**
 * The one way to reach the Docker engine: DOCKER_HOST when set, else the
 * default socket (dockerode's own rules). A ping with a short deadline turns
 * "no engine" into a clear error instead of a hang on the first real call.
 */

const PING_TIMEOUT_MS = 5_000;

export function engineAddress(env: NodeJS.ProcessEnv = process.env): string {
  const host = env['DOCKER_HOST'];
  return host !== undefined && host !== '' ? host : 'unix:///var/run/docker.sock';
}

export async function connectDocker(options: { timeoutMs?: number } = {}): Promise<Docker> {
  const where = engineAddress();
  let docker: Docker;
  try {
    docker = new Docker();
  } catch (err) {
    throw new DockerUnavailableError(`cannot use DOCKER_HOST=${where}: ${(err as Error).message}`, { cause: err });
  }
  const timeoutMs = options.timeoutMs ?? PING_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([docker.ping(), deadline]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no socket there' : code === 'ECONNREFUSED' ? 'connection refused' : (err as Error).message;
    throw new DockerUnavailableError(`Docker engine at ${where} is unavailable (${why})`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  return docker;
}

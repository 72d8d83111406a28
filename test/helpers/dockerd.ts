import { execa } from 'execa';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

/**
 * A real Docker engine for a test file: started with the project's own
 * script when none answers, and stopped afterwards only if this file started it.
 */
export async function useDockerd(): Promise<{ stop: () => Promise<void>; startedHere: boolean }> {
  const script = join(REPO_ROOT, 'scripts', 'dockerd.sh');
  const started = await execa('bash', [script, 'start'], { reject: false });
  if (started.exitCode !== 0) throw new Error(`scripts/dockerd.sh start failed:\n${String(started.stderr)}`);
  const startedHere = String(started.stdout).trim() === 'started';
  return {
    startedHere,
    stop: async () => {
      if (startedHere) await execa('bash', [script, 'stop']);
    },
  };
}

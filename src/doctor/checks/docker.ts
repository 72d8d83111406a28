import { errorMessage } from '../../errors.js';
import { connectDocker, engineAddress } from '../../executor/docker-engine.js';
import type { DoctorCheck } from '../types.js';

export const docker: DoctorCheck = {
  id: 'docker',
  title: 'Docker engine',
  required: (c) => c.purposes.has('docker') || c.dockerConfigured,
  run: async (c) => {
    try {
      const engine = await connectDocker({ timeoutMs: 5_000 });
      const info = (await engine.version()) as { Version?: string; ApiVersion?: string };
      return { status: 'ok', version: info.Version ?? '', detail: `engine ${info.Version ?? '?'} (API ${info.ApiVersion ?? '?'}) at ${engineAddress(c.env)}` };
    } catch (err) {
      return {
        status: 'problem',
        detail: errorMessage(err),
        fix: 'apt-get install docker.io (or run `bash scripts/dockerd.sh start`), or set DOCKER_HOST; needed for the docker executor only',
      };
    }
  },
};

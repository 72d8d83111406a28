import { cacheRoot } from '../../cache/cache-dir.js';
import { connectDocker } from '../../executor/docker-engine.js';
import { buildBuilderImage } from '../../images/builder-image.js';
import { IMAGE_SPECS, imageSpec } from '../../images/specs.js';

export interface ImagesBuildOptions {
  readonly distro?: string;
  readonly json?: boolean;
}

/** Builds (or confirms up to date) the builder image of one distro, or of every distro that has one. */
export async function imagesBuildCommand(opts: ImagesBuildOptions): Promise<number> {
  const distros = opts.distro === undefined ? Object.keys(IMAGE_SPECS) : [imageSpec(opts.distro).distro];
  const docker = await connectDocker();
  const reports = [];
  for (const distro of distros) {
    const started = Date.now();
    const report = await buildBuilderImage(docker, distro, cacheRoot(), (line) => process.stderr.write(`[${distro}] ${line}\n`));
    reports.push({ distro, ...report, durationMs: Date.now() - started });
  }
  if (opts.json === true) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  else for (const r of reports) process.stdout.write(`${r.distro}: ${r.ref} (${r.built ? 'built' : 'up to date'}, base ${r.base} ${r.baseHow})\n`);
  return 0;
}

import { cacheRoot } from '../../cache/cache-dir.js';
import { connectDocker } from '../../executor/docker-engine.js';
import { buildBuilderImage } from '../../images/builder-image.js';
import { IMAGE_SPECS, imageSpec } from '../../images/specs.js';
import { startStepProgress } from '../../progress/step-progress.js';
import { buildKbuildImage } from '../../images/kbuild-image.js';
import { buildServiceImage, SERVICE_IMAGES, type ServiceImage } from '../../images/service-image.js';
import { KbuildError } from '../../errors.js';

/** The report's name for the kbuild image (builder images are named by distro). */
const KBUILD_IMAGE = 'kbuild';

export interface ImagesBuildOptions {
  readonly distro?: string;
  /** The image of kbuild itself instead of builder images. */
  readonly kbuild?: boolean;
  /** The images deploy/compose.yaml runs: kbuild, redis and rgw. */
  readonly farm?: boolean;
  readonly json?: boolean;
}

/** Builds (or confirms up to date) the builder image of one distro, or of every distro that has one. */
export async function imagesBuildCommand(opts: ImagesBuildOptions): Promise<number> {
  if ([opts.kbuild, opts.farm, opts.distro !== undefined].filter((x) => x === true).length > 1) {
    throw new KbuildError('E_USAGE', '--kbuild, --farm and --distro build different images; give one', { exitCode: 2 });
  }
  const distros =
    opts.farm === true ? [KBUILD_IMAGE, ...Object.keys(SERVICE_IMAGES)] : opts.kbuild === true ? [KBUILD_IMAGE] : opts.distro === undefined ? Object.keys(IMAGE_SPECS) : [imageSpec(opts.distro).distro];
  const docker = await connectDocker();
  const reports = [];
  // docker build output: the latest line on a bar on a terminal, every line on stderr otherwise.
  const progress = startStepProgress(distros.length, 'images');
  try {
    for (const distro of distros) {
      const started = Date.now();
      const onLine = (line: string): void => progress.line(distro, line);
      const report =
        distro === KBUILD_IMAGE
          ? await buildKbuildImage(docker, cacheRoot(), onLine)
          : opts.farm === true
            ? await buildServiceImage(docker, distro as ServiceImage, cacheRoot(), onLine)
            : await buildBuilderImage(docker, distro, cacheRoot(), onLine);
      const durationMs = Date.now() - started;
      progress.done(distro, `${report.ref} ${report.built ? 'built' : 'up to date'} (${(durationMs / 1000).toFixed(1)}s)`);
      reports.push({ distro, ...report, durationMs });
    }
  } finally {
    progress.close();
  }
  if (opts.json === true) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  else for (const r of reports) process.stdout.write(`${r.distro}: ${r.ref} (${r.built ? 'built' : 'up to date'}, base ${r.base} ${r.baseHow})\n`);
  return 0;
}

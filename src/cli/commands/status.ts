import { openFarm } from '../../queue/open-farm.js';
import { farmSettings } from '../../queue/settings.js';
import { EXIT_SUBMISSION_LOST, lostLine, renderStatus, submissionStatus } from '../../queue/status.js';
import { loadSubmission } from '../../queue/submission.js';

export interface StatusCommandOptions {
  readonly redis?: string;
  readonly queue?: string;
  readonly json?: boolean;
}

/** Where a submission (default: the latest) stands, per kernel, each failure with its error. Exit 1 when a build failed. */
export async function statusCommand(id: string | undefined, opts: StatusCommandOptions): Promise<number> {
  const farm = await openFarm(farmSettings(opts));
  try {
    const record = await loadSubmission(farm.redis, farm.queue.name, id);
    const status = await submissionStatus(farm.queue, record);
    process.stdout.write(opts.json === true ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    const lost = lostLine(status);
    if (lost !== undefined) {
      process.stderr.write(`kbuild: ${lost}\n`);
      return EXIT_SUBMISSION_LOST;
    }
    return status.counts.failed > 0 || status.publish.state === 'failed' ? 1 : 0;
  } finally {
    await farm.close();
  }
}

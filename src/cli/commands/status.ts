import { openFarm } from '../../queue/open-farm.js';
import { farmSettings } from '../../queue/settings.js';
import { renderStatus, submissionStatus } from '../../queue/status.js';
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
    return status.counts.failed > 0 || status.publish.state === 'failed' ? 1 : 0;
  } finally {
    await farm.close();
  }
}

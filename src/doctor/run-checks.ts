import { errorMessage } from '../errors.js';
import type { CheckOutcome, CheckResult, DoctorCheck, DoctorContext } from './types.js';

/**
 * Runs every check at once, each with its own deadline: a hung Redis or
 * mirror costs one timeout, not the sum of them. A check that throws is a
 * bug in the check, reported as its result rather than ending the run.
 */
export async function runChecks(checks: readonly DoctorCheck[], context: Omit<DoctorContext, 'signal'>, timeoutMs: number): Promise<CheckResult[]> {
  return Promise.all(checks.map((check) => runOne(check, context, timeoutMs)));
}

async function runOne(check: DoctorCheck, base: Omit<DoctorContext, 'signal'>, timeoutMs: number): Promise<CheckResult> {
  const controller = new AbortController();
  const context: DoctorContext = { ...base, signal: controller.signal };
  const required = check.required(context);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ status: 'problem', detail: `no answer within ${Math.round(timeoutMs / 1000)} s`, fix: 'see why it hangs, or raise --timeout' });
    }, timeoutMs);
  });
  let outcome: CheckOutcome;
  try {
    outcome = await Promise.race([check.run(context), deadline]);
  } catch (err) {
    outcome = { status: 'problem', detail: `the check itself failed: ${errorMessage(err)}`, fix: 'report this as a kbuild bug' };
  } finally {
    clearTimeout(timer);
  }
  const status = outcome.status === 'problem' ? (required ? 'missing' : 'warn') : outcome.status;
  return {
    id: check.id,
    title: check.title,
    status,
    required,
    detail: outcome.detail,
    ...('version' in outcome && outcome.version !== undefined && outcome.version !== '' ? { version: outcome.version } : {}),
    ...('fix' in outcome ? { fix: outcome.fix } : {}),
    ms: Date.now() - started,
  };
}

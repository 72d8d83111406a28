/**
 * An AbortSignal that aborts when any of `signals` does. `AbortSignal.any`
 * only exists from Node 20.3; Debian 12 ships Node 18.
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  const abort = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
    for (const s of signals) s.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal): void {
    abort(this.reason);
  }
  for (const s of signals) {
    if (s.aborted) {
      abort(s.reason);
      break;
    }
    s.addEventListener('abort', onAbort, { once: true });
  }
  return controller.signal;
}

/**
 * An AbortSignal that aborts when any of `signals` does. `AbortSignal.any`
 * only exists from Node 20.3; Debian 12 ships Node 18.
 *
 * The inputs hold a listener until one aborts or `dispose()` is called: a
 * caller that combines a long-lived signal (a whole build's) with a short one
 * (one compile's) must dispose, or every compile leaves a listener on the
 * build's signal (Node warns at 11: MaxListenersExceededWarning).
 */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners from the inputs; the signal no longer follows them. Idempotent. */
  dispose(): void;
}

export function anySignal(signals: readonly AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const dispose = (): void => {
    for (const s of signals) s.removeEventListener('abort', onAbort);
  };
  function onAbort(this: AbortSignal): void {
    if (!controller.signal.aborted) controller.abort(this.reason);
    dispose();
  }
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason);
      dispose();
      break;
    }
    s.addEventListener('abort', onAbort, { once: true });
  }
  return { signal: controller.signal, dispose };
}

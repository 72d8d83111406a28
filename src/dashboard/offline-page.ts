import type express from 'express';
import { KbuildError } from '../errors.js';

type RenderCallback = (err: Error | null, html?: string) => void;
type Engine = (path: string, options: object, callback: RenderCallback) => void;

// A stylesheet or script the page would load from another host: bull-board's index links Google Fonts.
const EXTERNAL_TAG = /<(?:link|script)\b[^>]*\b(?:href|src)\s*=\s*["']?(?:https?:)?\/\/[^>]*>(?:\s*<\/script>)?\s*/gi;
const EXTERNAL_ATTR = /\b(?:href|src)\s*=\s*["']?(?:https?:)?\/\//i;

/**
 * The page without what it would fetch from the internet: farms often have no
 * way out, and an operator's browser should not tell a font CDN who watches
 * which farm. The CSS names system fonts after the web ones, so nothing looks broken.
 */
export function withoutExternalResources(html: string): string {
  const stripped = html.replace(EXTERNAL_TAG, '');
  // A bull-board upgrade that loads something else from outside fails here, not silently in a browser.
  const left = EXTERNAL_ATTR.exec(stripped.replace(/<a\b[^>]*>/gi, ''));
  if (left !== null) throw new KbuildError('E_DASHBOARD_PAGE', `the dashboard page still loads from another host (${stripped.slice(left.index, left.index + 80)})`);
  return stripped;
}

/** Wraps the board's view engine so every page it renders goes through withoutExternalResources. */
export function serveOffline(board: express.Express): void {
  const engines = (board as unknown as { engines: Record<string, Engine | undefined> }).engines;
  const render = engines['.ejs'];
  if (render === undefined) throw new KbuildError('E_DASHBOARD_PAGE', 'bull-board registered no ejs view engine (an upgrade changed how it renders its page)');
  board.engine('ejs', (path: string, options: object, callback: RenderCallback) =>
    render(path, options, (err, html) => {
      if (err !== null || html === undefined) return callback(err);
      try {
        callback(null, withoutExternalResources(html));
      } catch (failure) {
        callback(failure as Error);
      }
    }),
  );
}

/**
 * Reads what the guest loader (images/guest/kbuild-guest.c) printed on the
 * serial console. Lines are searched, not anchored: the kernel may print on
 * the same console, and a line it splits is lost, not misread (a result
 * whose log misses a chunk says so).
 */

import type { CaseResult, ProgramReport } from './types.js';

export interface GuestCaseReport {
  readonly index: number;
  readonly result: CaseResult;
  readonly events: number;
  readonly detail: string;
  readonly log: string;
  /** In the order the guest reported them. */
  readonly programs: readonly ProgramReport[];
}

export interface GuestReport {
  readonly release?: string;
  readonly cases: ReadonlyMap<number, GuestCaseReport>;
  /** Cases the loader started (a started case without a result took the guest down). */
  readonly started: ReadonlySet<number>;
  /** KBUILD-DONE was seen: the loader went through the whole manifest. */
  readonly done: boolean;
  readonly notes: readonly string[];
}

const B64 = '[A-Za-z0-9+/=]*';
const UNAME = /KBUILD-UNAME (\S{1,128})/;
const LOG = new RegExp(`KBUILD-LOG (\\d+) (\\d+) (\\d+) (${B64})`);
const RESULT = new RegExp(`KBUILD-RESULT (\\d+) (ok|failed|not-verifiable|inconclusive) (\\d+) (\\d+) (\\d+) (${B64})`);
const PROG = new RegExp(`KBUILD-PROG (\\d+) (attached|loaded|skipped|failed) (\\d+) (${B64})`);
const DONE = /KBUILD-DONE (\d+)/;
const START = /KBUILD-START (\d+)/;
const NOTE = /KBUILD-NOTE (.{0,300})/;

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');
const detailOf = (b64: string | undefined): string => (b64 === undefined ? '[kbuild: the console damaged this result line]' : decode(b64));
/** The base64 field when it has the length the guest announced (a line the kernel cut into has not). */
const intact = (length: string | undefined, b64: string | undefined): string | undefined => (b64 !== undefined && b64.length === Number(length) ? b64 : undefined);

export function parseConsole(text: string): GuestReport {
  let release: string | undefined;
  let done = false;
  const notes: string[] = [];
  const chunks = new Map<number, Map<number, string>>();
  const cases = new Map<number, GuestCaseReport>();
  const started = new Set<number>();
  const programs = new Map<number, ProgramReport[]>();
  for (const line of text.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = UNAME.exec(line)) !== null) release = m[1];
    else if ((m = START.exec(line)) !== null) started.add(Number(m[1]));
    else if ((m = LOG.exec(line)) !== null) {
      const chunk = intact(m[3], m[4]);
      if (chunk === undefined) continue;
      const index = Number(m[1]);
      const forCase = chunks.get(index) ?? new Map<number, string>();
      forCase.set(Number(m[2]), decode(chunk));
      chunks.set(index, forCase);
    } else if ((m = PROG.exec(line)) !== null) {
      const text = intact(m[3], m[4]);
      if (text === undefined) continue;
      const [name = '', ...rest] = decode(text).split('\n');
      const index = Number(m[1]);
      const detail = rest.join(' ');
      programs.set(index, [...(programs.get(index) ?? []), { name, result: m[2] as ProgramReport['result'], ...(detail === '' ? {} : { detail }) }]);
    } else if ((m = RESULT.exec(line)) !== null) {
      const index = Number(m[1]);
      const expected = Number(m[4]);
      const got = chunks.get(index) ?? new Map<number, string>();
      const parts: string[] = [];
      for (let i = 0; i < expected; i++) parts.push(got.get(i) ?? `\n[kbuild: console lost part ${i} of this log]\n`);
      cases.set(index, {
        index,
        result: m[2] as GuestCaseReport['result'],
        events: Number(m[3]),
        detail: detailOf(intact(m[5], m[6])),
        log: parts.join(''),
        programs: programs.get(index) ?? [],
      });
    } else if (DONE.test(line)) done = true;
    else if ((m = NOTE.exec(line)) !== null) notes.push(m[1] ?? '');
  }
  return { ...(release === undefined ? {} : { release }), cases, started, done, notes };
}

/** The last `lines` lines of the console without the loader's machine lines (those are parsed). */
export function consoleTail(text: string, lines = 40): string {
  return text
    .split(/\r?\n/)
    .filter((line) => !/KBUILD-(LOG|RESULT|PROG) /.test(line))
    .slice(-lines)
    .join('\n');
}

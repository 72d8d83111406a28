/**
 * Linux 6.9+ headers (scripts/min-tool-version.sh) refuse LLVM older than
 * 13.0.1, and non-CO-RE builds compile those headers with clang, then opt and
 * llc (src/job/compile.ts). Debian 12 ships 14.
 */
export const LLVM_MINIMUM = { version: '13.0.1', why: 'Linux 6.9+ headers need LLVM >= 13.0.1' } as const;

export const LLVM_FIX = 'apt-get install clang llvm';

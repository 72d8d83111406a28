/**
 * The line of a failed load that says why: the kernel verifier's last
 * complaint inside libbpf's "-- BEGIN PROG LOAD LOG --" block (its final
 * line is statistics, "processed N insns ..."), or libbpf's own last error.
 */
export function verifierSummary(log: string): string | undefined {
  const begin = log.lastIndexOf('-- BEGIN PROG LOAD LOG --');
  if (begin >= 0) {
    const end = log.indexOf('-- END PROG LOAD LOG --', begin);
    const lines = log
      .slice(begin, end < 0 ? undefined : end)
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('processed ') && !l.startsWith(';') && !/^\d+: \(/.test(l) && !l.startsWith('verification time'));
    const last = lines.at(-1);
    if (last !== undefined) return last.slice(0, 300);
  }
  const libbpf = log
    .split('\n')
    .filter((l) => l.startsWith('libbpf: '))
    .at(-1);
  return libbpf?.slice('libbpf: '.length, 300 + 'libbpf: '.length);
}

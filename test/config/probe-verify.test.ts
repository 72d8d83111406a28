import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseKernelsFile } from '../../src/config/load-kernels-file.js';
import { checkForKernel, choiceForCase, probeCheck, probeChecks } from '../../src/verify/stage/probe-check.js';

const file = (verify: string): string => `probes:
  - name: exec-snoop
    source: probes/execve/execve.bpf.c
${verify}kernels:
  - { distro: debian, release: 6.1.0-50-amd64, arch: x86_64 }
`;

function errorOf(text: string): string {
  try {
    parseKernelsFile(text, 'k.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected the kernels file to be rejected');
}

describe('probes[].verify', () => {
  it('defaults to load + attach, without an event check', () => {
    const { config } = parseKernelsFile(file(''), 'k.yaml');
    assert.deepEqual(probeChecks(config.probes).get('exec-snoop'), { check: {} });
    assert.deepEqual(probeCheck('unlisted'), { check: {} });
  });

  it('takes an event check, filling what it leaves out, or false', () => {
    const { config } = parseKernelsFile(file('    verify: { counterMap: execve_count, count: 3 }\n'), 'k.yaml');
    assert.deepEqual(probeCheck('exec-snoop', config.probes[0]), { check: { event: { trigger: 'execve', count: 3, counterMap: 'execve_count' } } });
    const counted = parseKernelsFile(file('    verify: { trigger: execve }\n'), 'k.yaml');
    assert.deepEqual(probeCheck('exec-snoop', counted.config.probes[0]), { check: { event: { trigger: 'execve', count: 5, counterMap: 'exec_snoop_count' } } });
    const off = parseKernelsFile(file('    verify: false\n'), 'k.yaml');
    assert.match((probeCheck('exec-snoop', off.config.probes[0]) as { notVerifiable: string }).notVerifiable, /verify: false/);
  });

  it('takes the attach and autoload policy: program names and globs', () => {
    const { config } = parseKernelsFile(
      file('    verify:\n      attach: { skip: [tail_*, dispatch_?], optional: [sys_enter_open], only: [sys_*] }\n      autoload: { disable: [feature_probe], maps: [feature_*], optional: [entry__fib6_age] }\n'),
      'k.yaml',
    );
    assert.deepEqual(probeCheck('exec-snoop', config.probes[0]), {
      check: {
        attachSkip: ['tail_*', 'dispatch_?'],
        attachOptional: ['sys_enter_open'],
        attachOnly: ['sys_*'],
        autoloadDisable: ['feature_probe'],
        autocreateDisable: ['feature_*'],
        autoloadOptional: ['entry__fib6_age'],
      },
    });
  });

  it('adds policy for the kernels a rule matches, by version and arch', () => {
    const yaml = [
      '    verify:',
      '      attach: { skip: [tail_*] }',
      '      kernels:',
      '        - { arch: arm64, attach: { optional: [sys_enter_open] } }',
      '        - { when: "<5.8", autoload: { disable: [ringbuf_*] }, attach: { skip: [tail_*, old_*] } }',
      '',
    ].join('\n');
    const { config } = parseKernelsFile(file(yaml), 'k.yaml');
    const choice = probeCheck('exec-snoop', config.probes[0]);
    assert.ok('check' in choice);
    assert.deepEqual(checkForKernel(choice.check, { release: '6.1.0-50-amd64', arch: 'x86_64' }), { attachSkip: ['tail_*'] });
    assert.deepEqual(checkForKernel(choice.check, { release: '6.1.0-50-arm64', arch: 'arm64' }), { attachSkip: ['tail_*'], attachOptional: ['sys_enter_open'] });
    assert.deepEqual(checkForKernel(choice.check, { release: '5.4.0-150-generic', arch: 'x86_64' }), { attachSkip: ['tail_*', 'old_*'], autoloadDisable: ['ringbuf_*'] });
    assert.match(errorOf(file('    verify:\n      kernels: [{ when: "5.8" }]\n')), /probes\[0\]\.verify\.kernels\[0\]\.when: a kernel version condition/);
  });

  it('kernels rules can turn verification off for some kernels and modes (not-verifiable), and scope globs to one mode', () => {
    const yaml = [
      'probes:',
      '  - name: userns',
      '    source: u.bpf.c',
      '    verify:',
      '      kernels:',
      '        - { when: "<6.2", verify: false }',
      '        - { mode: core-external-btf, verify: false }',
      '        - { mode: core-kernel-btf, autoload: { disable: [kfunc_*] } }',
      'kernels:',
      '  - { distro: debian, release: 6.1.0-50-amd64, arch: x86_64 }',
      '',
    ].join('\n');
    const { config } = parseKernelsFile(yaml, 'k.yaml');
    const choice = probeCheck('userns', config.probes[0]);
    const k61 = { release: '6.1.0-50-amd64', arch: 'x86_64' } as const;
    const k612 = { release: '6.12.117+deb13-cloud-amd64', arch: 'x86_64' } as const;
    assert.deepEqual(choiceForCase(choice, k61, 'core-kernel-btf'), { notVerifiable: 'kernels.yaml says verify: false for this probe on kernels <6.2' });
    assert.deepEqual(choiceForCase(choice, k612, 'core-external-btf'), { notVerifiable: 'kernels.yaml says verify: false for this probe on core-external-btf' });
    assert.deepEqual(choiceForCase(choice, k612, 'core-kernel-btf'), { check: { autoloadDisable: ['kfunc_*'] } });
    assert.deepEqual(choiceForCase(choice, k612, 'non-core'), { check: {} });
  });

  it('takes what the project\'s loader sets before loading: map sizes, inner maps and program types', () => {
    const yaml = [
      '    verify:',
      '      trigger: connect',
      '      maps:',
      '        ringbuf_maps: { maxEntries: cpus, inner: { type: ringbuf, maxEntries: 4194304 } }',
      '        auxiliary_maps: { maxEntries: cpus }',
      '        cgroup_hash: { inner: { type: hash, keySize: 8, maxEntries: 128 } }',
      '      programTypes: { "*filter": socket_filter, lb: socket_filter }',
      '',
    ].join('\n');
    const { config } = parseKernelsFile(file(yaml), 'k.yaml');
    assert.deepEqual(probeCheck('exec-snoop', config.probes[0]), {
      check: {
        event: { trigger: 'connect', count: 5, counterMap: 'exec_snoop_count' },
        maps: [
          { name: 'auxiliary_maps', maxEntries: 'cpus' },
          { name: 'cgroup_hash', inner: { type: 'hash', keySize: 8, valueSize: 4, maxEntries: 128 } },
          { name: 'ringbuf_maps', maxEntries: 'cpus', inner: { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4194304 } },
        ],
        programTypes: [
          { programs: '*filter', type: 'socket_filter' },
          { programs: 'lb', type: 'socket_filter' },
        ],
      },
    });
    assert.match(errorOf(file('    verify:\n      maps: { "a b": { maxEntries: 1 } }\n')), /^k\.yaml:5: probes\[0\]\.verify\.maps\.a b: a BPF map name/);
    assert.match(errorOf(file('    verify:\n      maps: { m: {} }\n')), /probes\[0\]\.verify\.maps\.m: give maxEntries, inner or both/);
    assert.match(errorOf(file('    verify:\n      maps: { m: { maxEntries: 0 } }\n')), /probes\[0\]\.verify\.maps\.m\.maxEntries/);
    assert.match(errorOf(file('    verify:\n      maps: { m: { inner: { type: queue, maxEntries: 1 } } }\n')), /probes\[0\]\.verify\.maps\.m\.inner\.type: .*"ringbuf"/);
    assert.match(errorOf(file('    verify:\n      programTypes: { x: filter }\n')), /probes\[0\]\.verify\.programTypes\.x: .*"socket_filter"/);
  });

  it('names file, line and field of a bad check', () => {
    assert.match(errorOf(file('    verify:\n      attach: { skip: ["a b"] }\n')), /^k\.yaml:5: probes\[0\]\.verify\.attach\.skip\[0\]: a program name or glob/);
    assert.match(errorOf(file('    verify:\n      autoload: { disable: ["x;y"] }\n')), /probes\[0\]\.verify\.autoload\.disable\[0\]: a program name or glob/);
    assert.match(errorOf(file('    verify:\n      counterMap: "x; rm -rf /"\n')), /^k\.yaml:5: probes\[0\]\.verify\.counterMap: a BPF map name \(a C identifier\)/);
    assert.match(errorOf(file('    verify: { trigger: fork }\n')), /^k\.yaml:4: probes\[0\]\.verify\.trigger: .*"execve".*"packet"/);
    assert.match(errorOf(file('    verify: { count: 0 }\n')), /^k\.yaml:4: probes\[0\]\.verify\.count: /);
    assert.match(errorOf(file('    verify: { counter: x }\n')), /^k\.yaml:4: probes\[0\]\.verify: unknown field "counter"/);
    assert.match(errorOf(file('    verify: true\n')), /^k\.yaml:4: probes\[0\]\.verify: /);
  });
});

/**
 * docs/examples/github-actions-release.yml: valid YAML with a GitHub Actions
 * workflow's structure, and every kbuild command line in it uses a command and
 * flags the CLI really has (checked against `kbuild <command> --help`).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { kbuild, REPO_ROOT } from '../helpers/cli.js';

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}
interface Job {
  readonly 'runs-on': string;
  readonly steps: Step[];
  readonly env?: Record<string, string>;
}
interface Workflow {
  readonly name: string;
  readonly on: Record<string, unknown>;
  readonly jobs: Record<string, Job>;
}

const FILE = join(REPO_ROOT, 'docs/examples/github-actions-release.yml');

/** Each `kbuild …` invocation in a shell script: its words, line continuations joined. */
export function kbuildInvocations(script: string): string[][] {
  const joined = script.replace(/\\\n/g, ' ');
  const found: string[][] = [];
  for (const piece of joined.split(/\n|&&|\|\||;|\|/)) {
    // Redirections end the command's own words.
    const words = piece.replace(/\s\d?>.*$/, '').trim().split(/\s+/);
    const at = words.findIndex((w) => w === 'kbuild' || w.endsWith('/kbuild') || w.endsWith('kbuild.js'));
    if (at >= 0) found.push(words.slice(at + 1));
  }
  return found;
}

describe('docs/examples/github-actions-release.yml', () => {
  let text = '';
  let workflow: Workflow;
  before(async () => {
    text = await readFile(FILE, 'utf8');
    workflow = parse(text) as Workflow;
  });

  it('is a workflow: triggers, jobs with runs-on and steps, each step one of uses/run', () => {
    assert.equal(typeof workflow.name, 'string');
    assert.ok(workflow.on !== null && typeof workflow.on === 'object', 'on: must map triggers');
    assert.ok('push' in workflow.on || 'release' in workflow.on || 'workflow_dispatch' in workflow.on);
    const jobs = Object.entries(workflow.jobs);
    assert.ok(jobs.length > 0);
    for (const [id, job] of jobs) {
      assert.match(id, /^[A-Za-z_][A-Za-z0-9_-]*$/, `job id ${id}`);
      assert.equal(typeof job['runs-on'], 'string', `${id}: runs-on`);
      assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${id}: steps`);
      for (const step of job.steps) {
        assert.ok((step.uses === undefined) !== (step.run === undefined), `step ${step.name ?? '?'}: exactly one of uses and run`);
        if (step.uses !== undefined) assert.match(step.uses, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/, `${step.uses}: pinned action`);
      }
    }
  });

  it('submits with --wait and lets its exit code fail the job, then publishes the report even after a failure', () => {
    const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
    const submit = steps.find((s) => s.run !== undefined && kbuildInvocations(s.run).some((w) => w[0] === 'submit'));
    assert.ok(submit?.run !== undefined, 'a step runs kbuild submit');
    const words = kbuildInvocations(submit.run).find((w) => w[0] === 'submit') ?? [];
    assert.ok(words.includes('--wait') && words.includes('--json'));
    assert.equal(submit.if, undefined, 'the submit step runs unconditionally');
    assert.doesNotMatch(submit.run, /\|\|\s*true|continue-on-error/, 'a failed build must fail the step');
    assert.ok(!('continue-on-error' in submit));
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.ok(upload !== undefined, 'the report is uploaded as an artifact');
    assert.match(String(upload.with?.['path']), /report\.html/);
    assert.match(upload.if ?? '', /always\(\)/, 'the report is kept after a failed build too');
    assert.ok(steps.some((s) => s.run?.includes('gh release upload') === true && s.run.includes('report.html')), 'the report goes to the release');
  });

  it('takes the Redis URL and the S3 credentials from secrets, and names no host', () => {
    const env = Object.values(workflow.jobs).map((j) => j.env ?? {}).reduce((a, b) => ({ ...a, ...b }), {});
    for (const name of ['KBUILD_REDIS_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      assert.match(env[name] ?? '', /^\$\{\{ secrets\.[A-Z0-9_]+ \}\}$/, `${name} from a secret`);
    }
    assert.doesNotMatch(text, /https?:\/\//, 'no URLs, so no registry or mirror host names');
    assert.doesNotMatch(text, /^\s*(container|image|services):/m, 'no container images to pull');
  });

  it('uses only kbuild commands and flags that exist (kbuild <command> --help)', async () => {
    const scripts = Object.values(workflow.jobs).flatMap((j) => j.steps).flatMap((s) => (s.run === undefined ? [] : [s.run]));
    const invocations = scripts.flatMap(kbuildInvocations);
    assert.ok(invocations.length >= 2, 'the workflow runs kbuild');
    const top = await kbuild(['--help']);
    for (const words of invocations) {
      const command = words[0] ?? '';
      assert.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'), `kbuild ${command} is not a command`);
      const help = await kbuild([command, '--help']);
      assert.equal(help.exitCode, 0, help.stderr);
      for (const flag of words.filter((w) => w.startsWith('-')).map((w) => w.replace(/=.*$/, ''))) {
        assert.match(help.stdout, new RegExp(`(^|[ ,])${flag.replace(/[-]/g, '\\-')}\\b`, 'm'), `kbuild ${command}: no flag ${flag}`);
      }
    }
  });

  it('the flag check catches a flag that does not exist', async () => {
    const help = await kbuild(['submit', '--help']);
    assert.doesNotMatch(help.stdout, /(^|[ ,])--no-such-flag\b/m);
    assert.deepEqual(kbuildInvocations('npx kbuild submit --kernels k.yaml \\\n  --wait > out.json && echo done'), [['submit', '--kernels', 'k.yaml', '--wait']]);
  });
});

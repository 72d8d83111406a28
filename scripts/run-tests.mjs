// Runs every *.test.ts with node's test runner, one file at a time: the
// suites share the download cache and this class of machine has 2 cores.
// Debian 12's Node 18.20 and Node >= 20.10 take --test-concurrency.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(path).isDirectory() ? find(path) : name.endsWith('.test.ts') ? [path] : [];
  });
}

const [major, minor] = process.versions.node.split('.').map(Number);
const sequential = major > 20 || (major === 20 && minor >= 10) || (major === 18 && minor >= 20) ? ['--test-concurrency=1'] : [];
const files = ['test', 'builders', 'src', 'packages'].flatMap(find).sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...sequential, ...files, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);

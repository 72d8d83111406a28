// Runs every *.test.ts with node's test runner, one file at a time where the
// runner supports choosing (Node >= 20.10); Debian 12's Node 18 runs files
// one at a time on this 2-core class of machine anyway.
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
const sequential = major > 20 || (major === 20 && minor >= 10) ? ['--test-concurrency=1'] : [];
const files = ['test', 'builders', 'src'].flatMap(find).sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...sequential, ...files, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);

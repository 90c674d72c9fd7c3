#!/usr/bin/env node
// `pnpm masa …`: build the CLI and what it depends on (quietly, through turbo's
// cache), then run it with the given arguments. Build output is shown only when
// the build fails.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync(
  process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm',
  ['exec', 'turbo', 'run', 'build', '--filter=@masa-rl/cli...', '--output-logs=errors-only'],
  { cwd: root, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
);
if (build.status !== 0) {
  process.stderr.write(build.stdout ?? '');
  process.stderr.write(build.stderr ?? '');
  process.stderr.write('masa: building the CLI failed (output above)\n');
  process.exit(build.status ?? 1);
}
const run = spawnSync(process.execPath, [join(root, 'apps/cli/dist/bin.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  // pnpm runs root scripts from the repo root; run the CLI where the user typed
  // the command so that relative paths mean what they wrote.
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
if (run.signal) process.kill(process.pid, run.signal);
process.exit(run.status ?? 1);

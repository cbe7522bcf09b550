import { spawnSync } from 'node:child_process';
import path from 'node:path';

// Cluster mode's code (ioredis, the Redis Streams adapter, every Redis port, the import and
// export of `beep cluster`) is loaded only when it is used: the embedded daemon never holds it in
// memory. Checked on the compiled files as `beep start` loads them: what main.js requires at load
// time is in require.cache before any command runs.

const DIST = path.resolve(__dirname, '..', '..', '..', 'dist', 'app');
const CLUSTER_PACKAGES = ['ioredis', '@socket.io/redis-streams-adapter'];

/** The files of `packages` in require.cache after a fresh node requires `file` (argv: `beep --version`). */
function packagesLoadedBy(file: string, packages: string[]): string[] {
  const script = `
    process.argv = [process.execPath, 'beep', '--version'];
    // \`beep --version\` exits as soon as it has printed: the answer is written on the way out.
    process.on('exit', () => {
      const hits = Object.keys(require.cache).filter((k) => ${JSON.stringify(packages)}.some((p) => k.includes('/node_modules/' + p + '/')));
      process.stderr.write('LOADED ' + JSON.stringify(hits) + '\\n');
    });
    require(${JSON.stringify(file)});`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  const line = /^LOADED (.*)$/m.exec(result.stderr);
  if (!line) throw new Error(`no answer from the probe (exit ${result.status}):\n${result.stderr}`);
  return JSON.parse(line[1]) as string[];
}

test('the probe sees the cluster packages where they are loaded (composition/cluster.js)', () => {
  expect(packagesLoadedBy(path.join(DIST, 'composition', 'cluster.js'), CLUSTER_PACKAGES).length).toBeGreaterThan(0);
});

test('loading main.js (the daemon and every CLI command) loads neither ioredis nor the Redis Streams adapter', () => {
  expect(packagesLoadedBy(path.join(DIST, 'main.js'), CLUSTER_PACKAGES)).toEqual([]);
});

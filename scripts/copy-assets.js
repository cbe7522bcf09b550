// Copies the non-TypeScript files the daemon reads at run time (SQL migrations, web assets)
// next to the compiled output, so dist/ is self-contained.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const assets = ['app/store/migrations', 'app/web'];

for (const rel of assets) {
  const from = path.join(root, rel);
  if (!fs.existsSync(from)) continue;
  fs.cpSync(from, path.join(root, 'dist', rel), { recursive: true });
}

// The phone app's only dependency, served from the gateway itself (no CDN): socket.io's ES module build.
const vendor = path.join(root, 'dist', 'app', 'web', 'phone', 'vendor');
fs.mkdirSync(vendor, { recursive: true });
const client = path.join(path.dirname(require.resolve('socket.io-client/package.json', { paths: [root] })), 'dist', 'socket.io.esm.min.js');
fs.copyFileSync(client, path.join(vendor, 'socket.io.esm.min.js'));

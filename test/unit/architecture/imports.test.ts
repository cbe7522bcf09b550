import fs from 'node:fs';
import path from 'node:path';

// ARCHITECTURE.md's "imports" column is true: for every part it lists, the parts its files
// import are exactly the ones named (a row saying "everything" is not checked). And only
// config/ reads process.env. A change of shape that forgets the map fails here.

const ROOT = path.resolve(__dirname, '..', '..', '..');
const APP = path.join(ROOT, 'app');

/** The part a file under app/ belongs to: its top folder ('gateway'), or its own name ('main'). */
function partOf(file: string): string {
  const [first, second] = path.relative(APP, file).split(path.sep);
  return second === undefined ? first.replace(/\.ts$/, '') : first;
}

function sources(dir = APP): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'web' ? [] : sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

/** part → the other parts its files import (relative imports only). */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources()) {
    const from = partOf(file);
    const set = graph.get(from) ?? new Set<string>();
    graph.set(from, set);
    for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(APP + path.sep)) continue;
      const to = partOf(fs.existsSync(`${target}.ts`) ? `${target}.ts` : target);
      if (to !== from) set.add(to);
    }
  }
  return graph;
}

/** part → the parts its row names; undefined for "everything". */
function documented(): Map<string, Set<string> | undefined> {
  const text = fs.readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const rows = new Map<string, Set<string> | undefined>();
  for (const line of text.split('\n')) {
    const cells = line.split(' | ');
    const name = /^\| `([^`]+)`/.exec(line)?.[1];
    if (!name || cells.length < 3 || name.startsWith('web/')) continue;
    const imports = cells[cells.length - 1].replace(/\s*\|\s*$/, '').trim();
    const part = name.replace(/\/$/, '').replace(/\.ts$/, '');
    if (imports === 'everything') {
      rows.set(part, undefined);
      continue;
    }
    // "auth (types), ingest/rules (the RE2 check)": names before any parenthesis or slash.
    const topLevel = imports.replace(/\([^)]*\)/g, '');
    const names = topLevel === '—' ? [] : topLevel.split(',').map((s) => s.trim().split(/[\s/]/)[0]).filter(Boolean);
    rows.set(part, new Set(names));
  }
  return rows;
}

test('every part of app/ has a row, and each row names exactly the parts it imports', () => {
  const graph = importGraph();
  const rows = documented();
  const missing = [...graph.keys()].filter((p) => !rows.has(p));
  expect({ partsWithoutARow: missing }).toEqual({ partsWithoutARow: [] });
  for (const [part, named] of rows) {
    if (named === undefined) continue;
    const actual = [...(graph.get(part) ?? [])].sort();
    expect({ part, imports: [...named].sort() }).toEqual({ part, imports: actual });
  }
});

test('only config/ reads process.env', () => {
  const readers = sources()
    .filter((f) => partOf(f) !== 'config' && /process\.env\b/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(ROOT, f));
  expect(readers).toEqual([]);
});

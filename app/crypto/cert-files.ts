// The certificate directory on disk: its file names, a private directory, and writes that a
// crash never leaves half done (temp file, fsync, rename, fsync of the directory).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';

const DIR_MODE = 0o700; // only the daemon's user may list the directory holding private keys
const FILE_MODE = 0o600; // keys (and certs, for uniformity) readable by the daemon's user only
const TEMP_SUFFIX_BYTES = 6; // random temp-file suffix so concurrent writers never share a temp file
/** Suffix of a CA staged by `beep cert rotate-ca`: complete on disk before either live file changes. */
export const STAGED_SUFFIX = '.next';

const FILE_NAMES = { caKey: 'ca.key', caCert: 'ca.crt', serverKey: 'server.key', serverCert: 'server.crt' } as const;

/** Absolute paths of the four files in one certificate directory. */
export type CertPaths = Record<keyof typeof FILE_NAMES, string>;

/** The four paths inside dir. */
export function certPaths(dir: string): CertPaths {
  return Object.fromEntries(Object.entries(FILE_NAMES).map(([key, name]) => [key, path.join(dir, name)])) as CertPaths;
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Creates dir (and parents) with mode 0700. */
export async function ensureDirectory(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (created !== undefined) await chmod(dir, DIR_MODE); // the umask may have masked bits off mode
}

/** Writes via a temp file and rename so a crash never leaves a truncated key or certificate behind. */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temp = `${file}.${process.pid}.${randomBytes(TEMP_SUFFIX_BYTES).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.chmod(FILE_MODE); // open()'s mode is filtered by the umask
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

/** Renames from → to (same directory) and makes the rename durable. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(path.dirname(to));
}

// Makes a rename durable; some platforms (Windows) cannot open a directory, which is harmless.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only: the file contents are already synced.
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';

// Starts a real redis-server (Debian's /usr/bin/redis-server) for one test file: a free port on
// loopback, its own temporary directory, the AOF on (`appendonly yes`, `appendfsync everysec`,
// the documented default) and `noeviction`. A test never relies on a Redis that happens to be
// running: it starts its own and stops it. kill9()/restart() keep the directory and port, so
// durability tests see what the AOF kept.

const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 20_000;

export interface RedisServerOptions {
  /** Config lines that replace (or add to) the defaults, e.g. `{ 'maxmemory-policy': 'allkeys-lru' }`. */
  config?: Record<string, string>;
  /** Sets `requirepass` (the default user's password). */
  password?: string;
  /** Extra raw lines (ACL `user ...` lines, say). */
  lines?: string[];
  /** Serve TLS only (rediss://) with this certificate and key (PEM). */
  tls?: { certPem: string; keyPem: string };
}

const DEFAULTS: Record<string, string> = {
  appendonly: 'yes',
  appendfsync: 'everysec',
  'maxmemory-policy': 'noeviction',
  save: '""',
  'protected-mode': 'yes',
};

/** A port nobody listens on now (the kernel's pick on loopback). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One PING (after AUTH when a password is set); resolves true once the server answers it. */
function pingOnce(port: number, password: string | undefined, useTls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    // Only "is it up?": the test itself checks the certificate through the client under test.
    const socket = useTls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    let text = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      text += chunk.toString();
      // Answering at all is up (an ACL test may turn the default user off: -NOAUTH); loading the AOF is not.
      if (text.includes('+PONG') || text.includes('-NOAUTH')) done(true);
      else if (text.includes('-LOADING') || text.includes('-ERR') || text.includes('-WRONGPASS')) done(false);
    });
    socket.on(useTls ? 'secureConnect' : 'connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
  });
}

/** A running redis-server owned by one test file. */
export class RedisServer {
  private proc: ChildProcess | null = null;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly password: string | undefined,
    private readonly confFile: string,
    readonly tls: boolean,
  ) {}

  /** Writes the config, starts the server and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-redis-'));
    const port = await freePort();
    const settings: Record<string, string> = { ...DEFAULTS, ...options.config, port: String(port), bind: '127.0.0.1', dir, logfile: path.join(dir, 'redis.log') };
    if (options.password) settings.requirepass = options.password;
    if (options.tls) {
      fs.writeFileSync(path.join(dir, 'tls.crt'), options.tls.certPem);
      fs.writeFileSync(path.join(dir, 'tls.key'), options.tls.keyPem, { mode: 0o600 });
      Object.assign(settings, { port: '0', 'tls-port': String(port), 'tls-cert-file': path.join(dir, 'tls.crt'), 'tls-key-file': path.join(dir, 'tls.key'), 'tls-auth-clients': 'no' });
    }
    const lines = [...Object.entries(settings).map(([k, v]) => `${k} ${v}`), ...(options.lines ?? [])];
    const confFile = path.join(dir, 'redis.conf');
    fs.writeFileSync(confFile, `${lines.join('\n')}\n`);
    const server = new RedisServer(dir, port, options.password, confFile, options.tls !== undefined);
    try {
      await server.launch();
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    return server;
  }

  /** `redis://` URL for the default user (with the password when one is set); `rediss://localhost` when it serves TLS. */
  get url(): string {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : '';
    return this.tls ? `rediss://${auth}localhost:${this.port}` : `redis://${auth}127.0.0.1:${this.port}`;
  }

  /** The server's own log, for a failing test's message. */
  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'redis.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private async launch(): Promise<void> {
    const proc = spawn(REDIS_SERVER, [this.confFile], { stdio: 'ignore' });
    this.proc = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`redis-server exited at start:\n${this.log().slice(-2000)}`);
      if (await pingOnce(this.port, this.password, this.tls)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Never leave a server behind: jest would wait for it at exit.
    await this.signal('SIGKILL');
    throw new Error(`redis-server did not answer PING within ${START_TIMEOUT_MS} ms:\n${this.log().slice(-2000)}`);
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(sig);
    await exited;
  }

  /** kill -9: what the AOF had on disk is all that survives. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Starts it again on the same port and directory (after kill9 or a stop without cleanup). */
  async restart(): Promise<void> {
    await this.signal('SIGKILL');
    await this.launch();
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.signal('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

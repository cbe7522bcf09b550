import pkg from '../package.json';

// The version reported in daemon.json and by `beep --version`.
export const VERSION: string = pkg.version;

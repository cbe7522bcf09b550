// The service definitions `beep service install` writes: a systemd user unit (Linux) and a
// launchd agent (macOS). Pure text builders, so their content is tested on any platform.

export interface ServiceSpec {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of dist/app/main.js. */
  main: string;
  dataDir: string;
  /** Where launchd writes stdout/stderr (systemd uses the journal). */
  logFile: string;
}

export const SYSTEMD_UNIT_NAME = 'beep.service';
export const LAUNCHD_LABEL = 'dev.beep.daemon';

/** systemd quotes words with spaces in double quotes, with \ and " escaped. */
function systemdWord(word: string): string {
  return /[\s"\\]/.test(word) ? `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : word;
}

/**
 * A user unit: starts at login (default.target), restarts on failure (a crash exits 1), and stops with SIGTERM,
 * which the daemon answers with a clean shutdown within 5 s.
 */
export function systemdUnit(spec: ServiceSpec): string {
  const exec = [spec.node, spec.main, '--data-dir', spec.dataDir, 'start'].map(systemdWord).join(' ');
  return `[Unit]
Description=Beep notification relay (your PC's notifications on your phones)

[Service]
Type=simple
ExecStart=${exec}
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=10
NoNewPrivileges=yes

[Install]
WantedBy=default.target
`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A launch agent: runs at login (RunAtLoad) and is restarted unless it exited cleanly. */
export function launchdPlist(spec: ServiceSpec): string {
  const args = [spec.node, spec.main, '--data-dir', spec.dataDir, 'start'].map((a) => `    <string>${xml(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>ExitTimeOut</key>
  <integer>10</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>${xml(spec.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(spec.logFile)}</string>
</dict>
</plist>
`;
}

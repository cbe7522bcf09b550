// The service definitions `beep service install` writes: a systemd user unit (Linux), a
// launchd agent (macOS) and a Task Scheduler task (Windows). Pure text builders, so their
// content is tested on any platform. Each runs node with the daemon's V8 flags (node-flags.ts).

import { DAEMON_NODE_FLAGS } from '../node-flags';

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
/** The Task Scheduler task's name (in the root folder). */
export const SCHTASKS_TASK_NAME = 'Beep';

/** systemd quotes words with spaces in double quotes, with \ and " escaped. */
function systemdWord(word: string): string {
  return /[\s"\\]/.test(word) ? `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : word;
}

/** What every service gives node after its own path: the daemon's V8 flags, then `main --data-dir <dir> start`. */
function daemonArguments(spec: ServiceSpec): string[] {
  return [...DAEMON_NODE_FLAGS, spec.main, '--data-dir', spec.dataDir, 'start'];
}

/**
 * A user unit: starts at login (default.target), restarts on failure (a crash exits 1), and stops with SIGTERM,
 * which the daemon answers with a clean shutdown within 5 s.
 */
export function systemdUnit(spec: ServiceSpec): string {
  const exec = [spec.node, ...daemonArguments(spec)].map(systemdWord).join(' ');
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
  const args = [spec.node, ...daemonArguments(spec)].map((a) => `    <string>${xml(a)}</string>`).join('\n');
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

/**
 * One argument as Windows' command-line parser (CommandLineToArgvW, the C runtime) reads it back:
 * quoted when it holds a space, a tab or a quote; backslashes doubled only before a quote.
 */
export function windowsArg(arg: string): string {
  if (arg !== '' && ![' ', '\t', '"'].some((c) => arg.includes(c))) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    out += '\\'.repeat(ch === '"' ? slashes * 2 + 1 : slashes) + ch;
    slashes = 0;
  }
  return `${out}${'\\'.repeat(slashes * 2)}"`;
}

/**
 * A Task Scheduler task (schtasks /Create /XML): starts at this user's logon with the user's
 * own rights, in the user's session; runs on battery; no time limit (a task made with
 * `schtasks /Create /SC ONLOGON` is stopped after 3 days); asked to restart on failure; one
 * instance. Saved as UTF-16 with a byte-order mark, the encoding schtasks reads.
 */
export function scheduledTaskXml(spec: ServiceSpec, user: string): string {
  const args = daemonArguments(spec).map(windowsArg).join(' ');
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Beep notification relay (your PC's notifications on your phones)</Description>
    <URI>\\${SCHTASKS_TASK_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>${xml(user)}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${xml(user)}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>false</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>3</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xml(spec.node)}</Command>
      <Arguments>${xml(args)}</Arguments>
    </Exec>
  </Actions>
</Task>
`;
}

// What the CLI's desktop-facing commands read from the environment (the config loader reads the
// daemon's): where systemd user units and the Windows task definition go, the Windows account's
// domain, and whether there is a desktop to open a browser on.

/** The user's session, as `beep service` and `beep dashboard` need it. */
export interface DesktopSession {
  /** $XDG_CONFIG_HOME, when set. */
  configHome?: string;
  /** A graphical session ($DISPLAY or $WAYLAND_DISPLAY) that xdg-open can use. */
  graphical: boolean;
  /** Windows: %LOCALAPPDATA%, when set. */
  localAppData?: string;
  /** Windows: %USERDOMAIN% (the computer or domain the account belongs to), when set. */
  userDomain?: string;
}

export function desktopSession(env: Record<string, string | undefined> = process.env): DesktopSession {
  return {
    configHome: env.XDG_CONFIG_HOME || undefined,
    graphical: Boolean(env.DISPLAY || env.WAYLAND_DISPLAY),
    localAppData: env.LOCALAPPDATA || undefined,
    userDomain: env.USERDOMAIN || undefined,
  };
}

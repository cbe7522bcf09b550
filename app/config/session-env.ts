// What the CLI's desktop-facing commands read from the environment (the config loader reads the
// daemon's): where systemd user units go, and whether there is a desktop to open a browser on.

/** The user's session, as `beep service` and `beep dashboard` need it. */
export interface DesktopSession {
  /** $XDG_CONFIG_HOME, when set. */
  configHome?: string;
  /** A graphical session ($DISPLAY or $WAYLAND_DISPLAY) that xdg-open can use. */
  graphical: boolean;
}

export function desktopSession(env: Record<string, string | undefined> = process.env): DesktopSession {
  return { configHome: env.XDG_CONFIG_HOME || undefined, graphical: Boolean(env.DISPLAY || env.WAYLAND_DISPLAY) };
}

import type { BeepConfig, RulesConfig } from '../config/schema';
import { saveRules, validateRules } from '../config/rules-file';
import type { NotificationInput } from '../domain/notification';
import { RulesEngine } from '../ingest/rules/rules-engine';
import { DbusCapture } from '../sources/dbus/dbus-capture';
import { MacosCapture } from '../sources/macos/macos-capture';
import { WindowsCapture } from '../sources/windows/windows-capture';
import type { Metrics } from '../observability/metrics';
import type { CaptureSink, DesktopIdStore, DesktopSource, SourcePositionStore } from '../sources/source';
import type { LogFor } from './observability';
import type { Relay } from './relay';

// Desktop capture: the rules engine (and its admin, which writes rules back to the data dir),
// the D-Bus, macOS and Windows sources, and the sink they hand notifications and closes to.

/** The rules engine ingest consults, and the admin control that replaces its rules live. */
export function buildRules(config: BeepConfig, log: LogFor) {
  let rules: RulesConfig = config.rules;
  const engine = new RulesEngine<NotificationInput>(rules, Date.now);
  const admin = {
    current: () => rules,
    replace: (raw: unknown) => {
      const outcome = validateRules(raw);
      if ('problems' in outcome) return outcome;
      saveRules(config.dataDir, outcome.rules);
      rules = outcome.rules;
      engine.setRules(rules);
      log('rules').info('rules replaced', { keywords: rules.keywords.length, quietWindows: rules.quietHours.windows.length });
      return outcome;
    },
  };
  return { engine, admin };
}

/** The desktop sources (built, not started), each absent-tolerant and reporting its own health, listening for phones' dismissals. */
export function buildSources(
  config: BeepConfig,
  relay: Relay,
  storage: { desktopIds: DesktopIdStore; positions: SourcePositionStore },
  log: LogFor,
  metrics: Metrics,
): DesktopSource[] {
  const sink: CaptureSink = {
    accept: async (input) => {
      const outcome = await relay.ingest.accept(input);
      return 'muted' in outcome ? null : outcome.notification.id;
    },
    // Closed on the desktop: dismissed on every phone, through the same path a phone's dismiss takes.
    dismissed: async (id) => void (await relay.dismiss(id, null)),
  };
  const dbusConfig = config.sources.dbus;
  const sources: DesktopSource[] = [
    new DbusCapture(
      { enabled: dbusConfig.enabled, address: dbusConfig.address, expected: dbusConfig.addressOrigin === 'config', retryMs: dbusConfig.retrySec * 1000 },
      sink,
      storage.desktopIds,
      log('dbus'),
    ),
    // The read position of the polling sources is kept in the store (a restart resumes there).
    new MacosCapture({ ...config.sources.macos, pollMs: config.sources.macos.pollSec * 1000 }, sink, storage.positions, log('macos'), (reason) =>
      metrics.captureSkipped.inc({ source: 'macos', reason }),
    ),
    new WindowsCapture({ ...config.sources.windows, pollMs: config.sources.windows.pollSec * 1000 }, sink, storage.positions, log('windows'), (reason) =>
      metrics.captureSkipped.inc({ source: 'windows', reason }),
    ),
  ];
  // Dismissed on a phone: a captured notification is closed on the desktop it came from.
  relay.bus.subscribe({
    dismissed: ({ id, byDevice }) => {
      if (byDevice !== null) for (const source of sources) void source.closeOnDesktop(id);
    },
  });
  return sources;
}

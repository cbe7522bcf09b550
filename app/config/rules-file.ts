import fs from 'node:fs';
import path from 'node:path';
import { rulesSchema, type RulesConfig } from './rules-schema';

// The `rules` section outside start-up: validated by the one schema and written back into
// <data dir>/config.json, so a PUT /api/v1/rules survives a restart.

/** Validates a rules document; returns it with defaults filled in, or every problem found. */
export function validateRules(raw: unknown): { rules: RulesConfig } | { problems: { field: string; message: string }[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: [{ field: '', message: 'the rules must be a JSON object' }] };
  }
  const { value, error } = rulesSchema.validate(raw, { abortEarly: false, convert: false });
  if (error) return { problems: error.details.map((d) => ({ field: d.path.join('.'), message: d.message })) };
  return { rules: value };
}

/** Replaces `rules` in config.json (atomically, mode 0600), keeping every other key as it was. */
export function saveRules(dataDir: string, rules: RulesConfig): void {
  const file = path.join(dataDir, 'config.json');
  let current: Record<string, unknown> = {};
  try {
    current = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify({ ...current, rules }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

import Joi from 'joi';
import * as D from './defaults';
import { patternProblem } from '../ingest/rules/keyword-pattern';

// The `rules` section of the configuration (also what PUT /api/v1/rules validates): which apps,
// which priorities, quiet hours, keyword patterns (RE2-checked), duplicates and bursts.

/** The user's notification rules (ingest/rules reads the same shape). */
export interface RulesConfig {
  apps: { allow: string[]; deny: string[] };
  minPriority: 1 | 2 | 3 | 4 | 5;
  quietHours: {
    timeZone: string | null;
    allowUrgent: boolean;
    windows: { days: ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[]; start: string; end: string }[];
  };
  keywords: { pattern: string; flags: string; action: 'mute' | 'redact'; apps: string[]; replacement: string }[];
  duplicates: { windowSec: number };
  burst: { threshold: number; windowSec: number };
}

const globs = Joi.array().items(Joi.string().min(1).max(128)).max(D.MAX_RULE_ITEMS).default([]);
const clock = Joi.string().pattern(/^([01]\d|2[0-3]):[0-5]\d$/).messages({ 'string.pattern.base': '{{#label}} must be HH:MM (24 h)' });
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];


/** The `rules` section; also validates PUT /api/v1/rules. */
export const rulesSchema = Joi.object<RulesConfig>({
  apps: Joi.object({ allow: globs, deny: globs }).default(),
  minPriority: Joi.number().integer().min(1).max(5).default(1),
  quietHours: Joi.object({
    timeZone: Joi.string()
      .max(64)
      .allow(null)
      .default(null)
      .custom((zone: string, helpers) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
          return zone;
        } catch {
          return helpers.message({ custom: `{{#label}}: "${zone}" is not an IANA time zone` });
        }
      }),
    allowUrgent: Joi.boolean().default(true),
    windows: Joi.array()
      .items(
        Joi.object({
          days: Joi.array().items(Joi.string().valid(...DAYS)).min(1).unique().default(DAYS),
          start: clock.required(),
          end: clock.required(),
        }),
      )
      .max(D.MAX_RULE_ITEMS)
      .default([]),
  }).default(),
  keywords: Joi.array()
    .items(
      Joi.object({
        pattern: Joi.string()
          .min(1)
          .max(500)
          .required()
          .custom((pattern: string, helpers) => {
            const problem = patternProblem(pattern);
            // Passed as a value, not spliced into the template: a pattern's braces are not template syntax.
            return problem === null ? pattern : helpers.message({ custom: '{{#label}} {#problem}' }, { problem });
          }),
        flags: Joi.string().pattern(/^[ims]{0,3}$/).default('i'),
        action: Joi.string().valid('mute', 'redact').required(),
        apps: globs,
        replacement: Joi.string().max(64).allow('').default('•••'),
      }),
    )
    .max(D.MAX_RULE_ITEMS)
    .default([]),
  duplicates: Joi.object({ windowSec: Joi.number().integer().min(0).max(86_400).default(0) }).default(),
  burst: Joi.object({
    threshold: Joi.number().integer().min(0).max(10_000).default(0),
    windowSec: Joi.number().integer().min(1).max(3_600).default(D.BURST_WINDOW_SEC),
  }).default(),
}).default();

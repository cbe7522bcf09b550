import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import { requireJson } from '../edge';

// Admin: GET/PUT /api/v1/rules — the notification rules, replaced whole, applied at once.

/** What the routes need: read the rules, and validate + persist + apply a new set. */
export interface RulesAdmin {
  current(): unknown;
  /** Returns the applied rules (defaults filled in), or the problems that stopped it. */
  replace(raw: unknown): { rules: unknown } | { problems: { field: string; message: string }[] };
}

export function rulesRoutes(rules: RulesAdmin): Router {
  const router = Router();

  router.get('/api/v1/rules', (_req, res) => {
    res.json(rules.current());
  });

  router.put('/api/v1/rules', requireJson, (req, res) => {
    const outcome = rules.replace(req.body);
    if ('problems' in outcome) {
      throw new BeepError('invalid_rules', `The rules are not valid: ${outcome.problems[0].message}`, {
        details: { problems: outcome.problems },
      });
    }
    res.json(outcome.rules);
  });

  return router;
}

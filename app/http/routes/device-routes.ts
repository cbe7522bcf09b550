import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import { requireJson } from '../edge';
import type { DeviceDirectory } from '../../gateway/device-directory';
import type { PairingService } from '../../pairing/pairing-service';
import { parseTopicList } from '../../compat/topics';

// Admin: pairing codes, the device list, rename and revoke.

const DEVICE_ID = /^[A-Za-z0-9-]{1,64}$/;
/** characters: the same bound pairing puts on a name. */
const MAX_NAME = 64;

function parseName(body: unknown): string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BeepError('validation_failed', 'Send { "name": "…" }.');
  const extra = Object.keys(body).find((k) => k !== 'name');
  if (extra) throw new BeepError('unknown_field', `"${extra}" is not allowed.`);
  const name = (body as { name?: unknown }).name;
  if (typeof name !== 'string') throw new BeepError('invalid_type', '"name" must be a string.');
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > MAX_NAME) throw new BeepError('validation_failed', `"name" must be 1-${MAX_NAME} characters.`);
  return trimmed;
}

function parseHistoryChoice(body: unknown): boolean | undefined {
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0)) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new BeepError('validation_failed', 'Send nothing, or { "history": false }.');
  const extra = Object.keys(body).find((k) => k !== 'history');
  if (extra) throw new BeepError('unknown_field', `"${extra}" is not allowed.`);
  const history = (body as { history?: unknown }).history;
  if (typeof history !== 'boolean') throw new BeepError('invalid_type', '"history" must be true or false.');
  return history;
}

export function deviceRoutes(pairing: PairingService, directory: DeviceDirectory): Router {
  const router = Router();

  // Optional body { "history": false }: a code that never hands out recent history.
  router.post('/api/v1/pairings', async (req, res) => {
    res.status(201).json(await pairing.createCode({ history: parseHistoryChoice(req.body) }));
  });

  router.get('/api/v1/devices', async (_req, res) => {
    res.json(await directory.list());
  });

  router.patch('/api/v1/devices/:id', requireJson, async (req, res) => {
    const id = String(req.params.id);
    const name = parseName(req.body);
    if (!DEVICE_ID.test(id) || !(await directory.rename(id, name))) throw new BeepError('device_not_found');
    const device = (await directory.list()).find((d) => d.id === id);
    res.json(device);
  });

  router.delete('/api/v1/devices/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!DEVICE_ID.test(id) || !(await directory.revoke(id))) throw new BeepError('device_not_found');
    res.status(204).end();
  });

  // Protocol extension: a device's topic filter ({ topics: [..] } or { topics: null } = every topic).
  router.put('/api/v1/devices/:id/topics', requireJson, async (req, res) => {
    const id = String(req.params.id);
    const raw = (req.body as { topics?: unknown } | null)?.topics;
    if (raw !== null && !Array.isArray(raw)) throw new BeepError('invalid_topic', 'Send { "topics": ["a", "b"] } or { "topics": null }.');
    const topics = raw === null ? null : parseTopicList(raw.map(String));
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id) || !(await directory.setTopics(id, topics))) throw new BeepError('device_not_found');
    res.json({ id, topics });
  });

  return router;
}

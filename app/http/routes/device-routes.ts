import { Router } from 'express';
import { BeepError } from '../../domain/errors';
import type { DeviceDirectory } from '../../gateway/device-directory';
import type { PairingService } from '../../pairing/pairing-service';
import { parseTopicList } from '../../compat/topics';
import { requireJson } from '../edge';

// Admin: pairing codes and the device list.

export function deviceRoutes(pairing: PairingService, directory: DeviceDirectory): Router {
  const router = Router();

  router.post('/api/v1/pairings', async (_req, res) => {
    res.status(201).json(await pairing.createCode());
  });

  router.get('/api/v1/devices', async (_req, res) => {
    res.json(await directory.list());
  });

  router.delete('/api/v1/devices/:id', async (req, res) => {
    const id = String(req.params.id);
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id) || !(await directory.revoke(id))) throw new BeepError('device_not_found');
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

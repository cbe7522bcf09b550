import { Router } from 'express';

// Admin: field-encryption key rotation (`beep keys rotate`): start or join, and its progress.

export interface RotationProgressView {
  running: boolean;
  keyId: string;
  phase: string | null;
  done: number;
  total: number;
}

/** What the routes need; daemon.ts adapts the store's KeyRotation and the cipher. */
export interface KeyControl {
  progress(): RotationProgressView;
  /** Starts a rotation to a new data key, or joins the one running. */
  rotate(): Promise<{ started: boolean; progress: RotationProgressView }>;
}

export function keyRoutes(keys: KeyControl): Router {
  const router = Router();
  router.post('/api/v1/keys/rotate', async (_req, res) => {
    const { started, progress } = await keys.rotate();
    res.status(started ? 202 : 200).json(progress);
  });
  router.get('/api/v1/keys/rotation', (_req, res) => {
    res.json(keys.progress());
  });
  return router;
}

import crypto from 'node:crypto';
import type { Router } from 'express';
import { AttachmentLinks } from '../attachments/attachment-links';
import { attachmentRoutes, type NotificationLookup } from '../attachments/attachment-routes';
import { attachmentUploadRoute, type UploadDeps } from '../attachments/attachment-upload-route';
import { attachmentRelinkRoute, type RelinkDeps } from '../attachments/attachment-relink-route';
import type { BeepConfig } from '../config/schema';
import type { NtfyAttachments } from '../compat/ntfy/ntfy-routes';
import { AttachmentFiles, type FileKeys } from '../store/attachment-files';
import type { Db } from '../store/database';
import type { GroupWriter } from '../store/group-writer';
import type { ReadPool } from '../store/read-pool';
import type { LogFor } from './observability';

// Attachments: the encrypted file store in <data dir>/attachments, the signed links (a key made
// at start), the download route both listeners mount, and the sweep of expired files. Absent
// when `attachments.enabled` is false (ntfy files and `Attach:` are then refused).

/** What the rest of the daemon gets: the files (ntfy uploads, key rotation), the links (wire, ntfy), the route. */
export interface Attachments {
  files: AttachmentFiles;
  links: AttachmentLinks;
  /** For the ntfy routes. */
  ntfy: NtfyAttachments;
  router: Router;
  /** The admin listener's upload (`beep send --file`), given ingest once it exists. */
  uploadRouter(receive: UploadDeps['receive']): Router;
  /** The gateway's fresh-link route for paired phones, given the device checks. */
  relinkRouter(devices: Pick<RelinkDeps, 'verify' | 'topicsOf'>): Router;
  /** Starts the sweep (once now, then every `attachments.sweepSec`); returns its stop. */
  startSweeping(): () => void;
}

/** The store's parts the files need. */
export interface AttachmentStorage {
  db: Db;
  writer: GroupWriter;
  pool: ReadPool;
  notifications: NotificationLookup;
}

export function buildAttachments(config: BeepConfig, storage: AttachmentStorage, keys: FileKeys, log: LogFor): Attachments | undefined {
  const c = config.attachments;
  if (!c.enabled) return undefined;
  const logger = log('attachments');
  const files = new AttachmentFiles(config.dataDir, storage.db, storage.writer, storage.pool, keys, {
    maxFileBytes: c.maxFileBytes,
    maxTotalBytes: c.maxTotalBytes,
    expiryMs: c.expirySec * 1000,
  });
  const links = new AttachmentLinks(crypto.randomBytes(32), c.linkSec * 1000);
  const router = attachmentRoutes({ links, files, notifications: storage.notifications, logger });
  const sweep = () =>
    files.sweep().then(
      (n) => n > 0 && logger.info('attachment files deleted', { count: n }),
      (error) => logger.error('attachment sweep failed', { error: String(error) }),
    );
  return {
    files,
    links,
    router,
    ntfy: { files, links },
    relinkRouter: (devices) => attachmentRelinkRoute({ ...devices, files, notifications: storage.notifications, links }),
    uploadRouter: (receive) => attachmentUploadRoute({ files, receive, link: (a) => links.pathOf(a) }),
    startSweeping: () => {
      void sweep();
      const timer = setInterval(() => void sweep(), c.sweepSec * 1000);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

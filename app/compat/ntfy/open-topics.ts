import type { Request } from 'express';
import { BeepError } from '../../domain/errors';
import { credentialOf } from '../credentials';
import type { Publisher } from './ntfy-publish';

// Token-less publishing from local scripts, where the user chose it (compat.ntfy.openTopics):
// ntfy's first documented command (`curl -d "Backup done" host/topic`) and packages that cannot
// send a token (@cityssm/ntfy-publish) work against the loopback admin listener for the listed
// topics. Only a request no browser page could have made qualifies: a web page's fetch or form
// always carries an Origin (POST) or a Sec-Fetch-Site other than `none`, so either refuses it
// (403) instead of letting any page the user visits post to their phone. The admin listener's
// Host check already refuses DNS-rebound names; this closes the plain cross-site POST.

/** Who a token-less local publish is recorded as (the app name phones show). */
export const LOCAL_PUBLISHER: Publisher = { tokenId: null, name: 'local script' };

/** Whether the request looks like it came from a web page (any Origin, or a Sec-Fetch-Site other than a typed URL's). */
function fromBrowser(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  return req.headers.origin !== undefined || (site !== undefined && site !== 'none');
}

/**
 * The publisher of a token-less POST/PUT to an open topic, or undefined when the request must
 * show a token (no open topics here, another topic or method, or it carries a credential).
 * Throws forbidden_origin for a browser-shaped request to an open topic.
 */
export function openPublisher(req: Request, topic: string, openTopics: ReadonlySet<string> | undefined): Publisher | undefined {
  if (!openTopics?.has(topic) || (req.method !== 'POST' && req.method !== 'PUT')) return undefined;
  if (credentialOf(req) !== undefined) return undefined;
  if (fromBrowser(req)) throw new BeepError('forbidden_origin', 'A web page may not publish to an open topic; send an API token (beep token create).');
  return LOCAL_PUBLISHER;
}

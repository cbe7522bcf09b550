import type { CaSync } from '../cluster/redis-ca-store';
import type { CertificateRenewer } from '../crypto/certificate-renewer';
import type { LoadedTls } from '../crypto/certificates';
import type { Logger } from '../observability/logger';
import type { TlsState } from './tls';

// `beep cert rotate-ca` on a cluster node, and every node following it. The rotating node puts a
// new CA into Redis under the `ca-rotation` lease (compare-and-set against the CA it served, so
// two requests give one new CA), tells the other nodes (`ca-rotated` control event), writes the
// CA into its certs/ and swaps in a server certificate under it. Every node, on that event and
// every TRUST_REFRESH_MS (a missed event cannot keep the old CA), syncs certs/ with the cluster's
// CA and, when it is not the one it serves, swaps in a certificate under it: no restart, and
// `beep cert status` shows the same CA fingerprint on every node.

/** The CA part of a cluster node (composition/cluster.ts, cluster-trust.ts). */
export interface ClusterAuthority {
  trust: {
    rotateAuthority(expected: string): Promise<{ fingerprint: string; generation: number }>;
    syncAuthority(): Promise<CaSync>;
  };
  announceAuthority(fingerprint: string): void;
  followAuthority(follow: () => Promise<void>): void;
}

/** tls.rotate on a cluster node: Redis first (the commit point), then the other nodes are told, then this node's certs/. */
export function clusterRotate(tls: TlsState, node: ClusterAuthority, log: Logger): (expected: string) => Promise<LoadedTls> {
  return async (expected) => {
    const rotated = await node.trust.rotateAuthority(expected);
    node.announceAuthority(rotated.fingerprint);
    log.info('the cluster\'s CA was replaced here; every node swaps it in', { previous: expected, ...rotated });
    await node.trust.syncAuthority();
    return tls.load(true);
  };
}

/** Makes this node follow the cluster's CA through the renewer's swap (one certificate operation at a time). */
export function followClusterAuthority(renewer: CertificateRenewer, tls: TlsState, node: ClusterAuthority): void {
  node.followAuthority(async () => {
    await renewer.followAuthority(async (served) => {
      const sync = await node.trust.syncAuthority();
      return sync.fingerprint === served ? null : tls.load(false);
    });
  });
}

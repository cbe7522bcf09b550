import type { StoredNotification } from '../domain/notification';
import type { DismissedEvent, RelayBus, RelayListener } from '../delivery/relay-bus';
import type { ControlChannel, ControlMessage } from './control-channel';

// The RelayBus of a cluster node. `accepted` is published only by the outbox reader
// (composition/cluster.ts), never by ingest's commit: the reader hands every seq in order, so a
// node never gives its phones a notification before every lower seq. Dismissals and
// revocations are published on this node's bus and sent to the other nodes as control events,
// which publish them on theirs.

/** A node's bus: the local one plus the control channel to the other nodes. */
export class ClusterRelayBus implements RelayBus {
  constructor(
    private readonly local: RelayBus,
    private readonly control: ControlChannel,
    /** Whether API token ids are the cluster's (the token store on Redis); a node's own ids must not close another node's streams. */
    private readonly sharedTokens: boolean,
  ) {}

  /** From the outbox reader only. */
  accepted(notification: StoredNotification): Promise<void> {
    return this.local.accepted(notification);
  }

  dismissed(event: DismissedEvent): Promise<void> {
    this.control.send({ kind: 'dismissed', event });
    return this.local.dismissed(event);
  }

  deviceRevoked(deviceId: string): Promise<void> {
    this.control.send({ kind: 'device-revoked', deviceId });
    return this.local.deviceRevoked(deviceId);
  }

  tokenRevoked(tokenId: number): Promise<void> {
    if (this.sharedTokens) this.control.send({ kind: 'token-revoked', tokenId });
    return this.local.tokenRevoked(tokenId);
  }

  subscribe(listener: RelayListener): () => void {
    return this.local.subscribe(listener);
  }

  /** A control message from another node: published here only (it was sent by its origin). */
  receive(message: ControlMessage): void {
    if (message.kind === 'dismissed') void this.local.dismissed(message.event);
    else if (message.kind === 'device-revoked') void this.local.deviceRevoked(message.deviceId);
    else if (message.kind === 'token-revoked') void this.local.tokenRevoked(message.tokenId);
  }
}

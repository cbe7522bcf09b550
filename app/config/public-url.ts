import net from 'node:net';

// gateway.publicUrl and gateway.publicHost name the same thing (where phones reach the gateway):
// one place derives the host from either, so the certificate, the pairing link and the URL a
// cluster node advertises can never disagree.

/** The host part of a public URL, without IPv6 brackets, lower-case. */
export function hostOfUrl(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** The host phones reach the gateway by: gateway.publicHost, else gateway.publicUrl's host; null when neither is set. */
export function publicHostOf(gateway: { publicHost: string | null; publicUrl: string | null }): string | null {
  if (gateway.publicHost) return gateway.publicHost;
  return gateway.publicUrl ? hostOfUrl(gateway.publicUrl) : null;
}

/** The public URL as pairing links carry it: its origin (scheme, host, port), no path or trailing slash. */
export function publicOrigin(url: string): string {
  return new URL(url).origin;
}

/** Splits a public host into the certificate's DNS names and IP addresses. */
export function certificateNames(host: string | null): { hostnames: string[]; addresses: string[] } {
  if (!host) return { hostnames: [], addresses: [] };
  return net.isIP(host) ? { hostnames: [], addresses: [host] } : { hostnames: [host], addresses: [] };
}

// The CA fingerprint as Beep prints it ("sha256/<hex>"), computed in the browser from /ca.crt.

/** SHA-256 of the certificate's DER bytes, "sha256/<64 hex>". */
export async function pemFingerprint(pem) {
  const base64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  return `sha256/${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The fingerprint of the CA this gateway serves (`base`: another gateway of the cluster, e.g. https://pc.lan:2337). */
export async function gatewayFingerprint(base = '') {
  const response = await fetch(`${base}/ca.crt`, { cache: 'no-store' });
  if (!response.ok) throw new Error(`/ca.crt answered HTTP ${response.status}`);
  return pemFingerprint(await response.text());
}

/** "sha256/ab12…" → "AB12 CD34 …" in groups of four, for reading aloud and comparing. */
export function groupedHex(fingerprint) {
  return fingerprint.replace(/^sha256\//, '').toUpperCase().match(/.{1,4}/g)?.join(' ') ?? '';
}

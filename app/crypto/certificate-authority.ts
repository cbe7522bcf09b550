// Key generation and X.509 issuance for Beep's private CA. New CAs and every server certificate
// use P-256 keys: a handshake then costs one ECDSA signature instead of an RSA private-key
// operation (a few hundred RSA handshakes a second fill a core). Every TLS 1.3 client must
// accept ecdsa_secp256r1_sha256 (RFC 8446 §9.1) and TLS 1.2 phones have had ECDHE-ECDSA for a
// decade, so no client needs RSA; RSA remains only as the signer of CAs made before (their
// phones pinned them), which sign P-256 server certificates just the same.
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { beepNameConstraintsDer, NAME_CONSTRAINTS_OID } from './name-constraints';
import { inspectCertificate } from './x509-reader';
import {
  authorityKeyIdentifier,
  basicConstraints,
  commonNameDer,
  keyIdentifier,
  keyUsage,
  serverAuthOnly,
  signCertificate,
  subjectAltName,
  subjectKeyIdentifier,
} from './x509-builder';
import type { WantedNames } from './subject-alt-names';

export { inspectCertificate, type CertificateSummary } from './x509-reader';

const KEY_CURVE = 'prime256v1'; // P-256: 128-bit security, the curve every TLS 1.3 client must support
const CA_VALIDITY_YEARS = 10; // phones pin the CA fingerprint at pairing, so re-pairing should be rare
const SERVER_VALIDITY_DAYS = 397; // Apple/CA-B cap TLS leaf certificates at 398 days; one day of margin
const CLOCK_SKEW_MS = 60 * 60 * 1000; // backdate notBefore 1 h so a phone whose clock runs slow accepts a fresh cert
const SERIAL_BYTES = 16; // RFC 5280 allows up to 20 octets; CA/B wants ≥ 64 random bits
const COMMON_NAME_MAX_CHARS = 64; // RFC 5280 ub-common-name
const DAY_MS = 24 * 60 * 60 * 1000; // milliseconds per day, for validity arithmetic
const CA_NAME_PREFIX = 'Beep local CA'; // what users see in the phone's trust settings

const generateKeyPairAsync = promisify(generateKeyPair);

// A PEM certificate with its PEM (PKCS#8) private key.
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

/** The key types Beep's certificates may hold: P-256 (new) or RSA (CAs made before P-256). */
export function isSupportedKey(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa' || (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === KEY_CURVE);
}

/** Is this the kind of key a server certificate is issued with now (P-256)? */
export function isServerKey(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === KEY_CURVE;
}

// A fresh P-256 key, generated off the main thread.
async function generateP256(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: KEY_CURVE });
  return privateKey;
}

function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

// Random positive serial: top bit cleared (DER INTEGER sign) and first octet non-zero (minimal encoding).
function randomSerial(): Buffer {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes;
}

function commonName(value: string): string {
  return value.slice(0, COMMON_NAME_MAX_CHARS);
}

/**
 * Creates the self-signed root that phones pin, name-constrained to LAN names and addresses
 * (name-constraints.ts); hostname only labels it for humans.
 */
export async function createCertificateAuthority(hostname: string, now: Date): Promise<CertificateAndKey> {
  const key = await generateP256();
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const suffix = ` (${hostname})`;
  const name = commonNameDer(commonName(`${CA_NAME_PREFIX.slice(0, COMMON_NAME_MAX_CHARS - suffix.length)}${suffix}`));
  const publicKey = createPublicKey(key);
  const certPem = signCertificate(
    {
      serial: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter,
      publicKey,
      extensions: [
        basicConstraints(true), // issues leaves only (pathLen 0)
        keyUsage(['keyCertSign', 'cRLSign']),
        subjectKeyIdentifier(publicKey),
        { oid: NAME_CONSTRAINTS_OID, critical: true, value: beepNameConstraintsDer() },
      ],
    },
    key,
  );
  return { certPem, keyPem: pkcs8Pem(key) };
}

/**
 * Issues the gateway's P-256 TLS certificate for names, signed by ca; never outlives the CA.
 * The caller passes only names the CA may vouch for (certificates.ts filters them).
 */
export async function issueServerCertificate(ca: CertificateAndKey, names: WantedNames, now: Date): Promise<CertificateAndKey> {
  const caSummary = inspectCertificate(ca.certPem);
  const caKey = createPrivateKey(ca.keyPem);
  const key = await generateP256();
  const publicKey = createPublicKey(key);
  const wantedNotAfter = now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS;
  const cn = names.hostnames.find((h) => h !== 'localhost') ?? 'localhost';
  const certPem = signCertificate(
    {
      serial: randomSerial(),
      issuer: caSummary.subjectDer,
      subject: commonNameDer(commonName(cn)),
      notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
      notAfter: new Date(Math.min(wantedNotAfter, caSummary.notAfter.getTime())),
      publicKey,
      extensions: [
        basicConstraints(false),
        keyUsage(['digitalSignature']), // ECDHE signs; no key encipherment with an EC key
        serverAuthOnly(),
        subjectAltName(names),
        subjectKeyIdentifier(publicKey),
        authorityKeyIdentifier(caSummary.keyId ?? keyIdentifier(createPublicKey(caKey))),
      ],
    },
    caKey,
  );
  return { certPem, keyPem: pkcs8Pem(key) };
}

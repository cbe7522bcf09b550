// Key generation and X.509 issuance for Beep's private CA: native RSA keygen, node-forge for the
// certificate structure and SHA-256 signatures.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as forge from 'node-forge';
import { addressFromBytes, addressToBytes, type WantedNames } from './subject-alt-names';

const CA_KEY_BITS = 3072; // NIST SP 800-57: 128-bit security for a root that lives 10 years
const SERVER_KEY_BITS = 2048; // CA/B Forum minimum; the leaf is replaced yearly and phones handshake faster
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

// Generates an RSA key off the main thread; forge's pure-JS keygen would block for seconds.
async function generateRsaKeyPem(bits: number): Promise<string> {
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return privateKey;
}

// Random positive serial: top bit cleared (DER INTEGER sign) and first octet non-zero (minimal encoding).
function randomSerialHex(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = (bytes[0]! & 0x7f) || 0x01;
  return bytes.toString('hex');
}

// forge emits CRLF line endings; Node and OpenSSL write LF, so keep the files consistent.
function toPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

function commonName(value: string): string {
  return value.slice(0, COMMON_NAME_MAX_CHARS);
}

// Builds a certificate skeleton for keyPem; the caller adds issuer, extensions and signs it.
function newCertificate(keyPem: string, cn: string, notBefore: Date, notAfter: Date): forge.pki.Certificate {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: commonName(cn) }]);
  return cert;
}

// Creates the self-signed root that phones pin; hostname only labels it for humans.
export async function createCertificateAuthority(hostname: string, now: Date): Promise<CertificateAndKey> {
  const keyPem = await generateRsaKeyPem(CA_KEY_BITS);
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const suffix = ` (${hostname})`;
  const prefix = CA_NAME_PREFIX.slice(0, COMMON_NAME_MAX_CHARS - suffix.length);
  const cert = newCertificate(keyPem, `${prefix}${suffix}`, new Date(now.getTime() - CLOCK_SKEW_MS), notAfter);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true }, // issues leaves only
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: toPem(cert), keyPem };
}

// Issues the gateway's TLS certificate for names, signed by ca; never outlives the CA itself.
export async function issueServerCertificate(ca: CertificateAndKey, names: WantedNames, now: Date): Promise<CertificateAndKey> {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const keyPem = await generateRsaKeyPem(SERVER_KEY_BITS);
  const wantedNotAfter = now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS;
  const notAfter = new Date(Math.min(wantedNotAfter, caCert.validity.notAfter.getTime()));
  const cn = names.hostnames.find((h) => h !== 'localhost') ?? 'localhost';
  const cert = newCertificate(keyPem, cn, new Date(now.getTime() - CLOCK_SKEW_MS), notAfter);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...names.hostnames.map((value) => ({ type: 2, value })), // dNSName
        ...names.addresses.map((a) => ({ type: 7, value: addressToBytes(a).toString('binary') })), // iPAddress
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: toPem(cert), keyPem };
}

// What a certificate covers and when, read with forge (Node 20's X509Certificate gives only strings).
export interface CertificateSummary extends WantedNames {
  notBefore: Date;
  notAfter: Date;
}

// Summarises certPem for the renewal decision; names are canonicalised for comparison.
export function inspectCertificate(certPem: string): CertificateSummary {
  const cert = forge.pki.certificateFromPem(certPem);
  const ext = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value: string }> } | undefined;
  const { notBefore, notAfter } = cert.validity;
  const summary: CertificateSummary = { hostnames: [], addresses: [], notBefore, notAfter };
  for (const altName of ext?.altNames ?? []) {
    if (altName.type === 2) {
      summary.hostnames.push(altName.value.toLowerCase());
    } else if (altName.type === 7) {
      const address = addressFromBytes(Buffer.from(altName.value, 'binary'));
      if (address !== null) summary.addresses.push(address);
    }
  }
  return summary;
}

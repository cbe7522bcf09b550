// Reads what Beep needs from a certificate of any key type (forge's reader refuses non-RSA keys):
// validity, the names it covers, its name constraints, its key id and its subject, byte for byte.
// It reads with der-reader.ts (no dependency).
import { X509Certificate } from 'node:crypto';
import { childrenOf, contentOf, DerType, isContextTag, isUniversalType, oidText, readDer, timeOf, type DerNode } from './der-reader';
import { NAME_CONSTRAINTS_OID, parseNameConstraints, type NameConstraints } from './name-constraints';
import { addressFromBytes, type WantedNames } from './subject-alt-names';

const SUBJECT_ALT_NAME_OID = '2.5.29.17';
const SUBJECT_KEY_IDENTIFIER_OID = '2.5.29.14';
const DNS_NAME_TAG = 2;
const IP_ADDRESS_TAG = 7;

/** What a certificate covers and when, plus what issuing under it needs. */
export interface CertificateSummary extends WantedNames {
  notBefore: Date;
  notAfter: Date;
  /** The subject Name as DER, to copy into the issuer field of what this certificate signs. */
  subjectDer: Buffer;
  /** null when the certificate has no nameConstraints extension. */
  nameConstraints: NameConstraints | null;
  /** The subjectKeyIdentifier, when present. */
  keyId: Buffer | null;
}

interface ExtensionEntry {
  oid: string;
  value: Buffer;
}

function extensionsOf(tbs: DerNode[]): ExtensionEntry[] {
  const wrapper = tbs.find((node) => isContextTag(node, 3));
  if (!wrapper) return [];
  return childrenOf(childrenOf(wrapper, 'extensions')[0], 'Extensions').map((ext) => {
    const parts = childrenOf(ext, 'Extension');
    const value = parts[parts.length - 1]; // extnID, critical (optional), extnValue
    return { oid: oidText(parts[0]), value: contentOf(value, 'extnValue') };
  });
}

function namesOf(sanDer: Buffer | undefined): WantedNames {
  const names: WantedNames = { hostnames: [], addresses: [] };
  if (!sanDer) return names;
  for (const entry of childrenOf(readDer(sanDer), 'GeneralNames')) {
    if (isContextTag(entry, DNS_NAME_TAG)) {
      names.hostnames.push(contentOf(entry, 'dNSName').toString('ascii').toLowerCase());
    } else if (isContextTag(entry, IP_ADDRESS_TAG)) {
      const address = addressFromBytes(contentOf(entry, 'iPAddress'));
      if (address !== null) names.addresses.push(address);
    }
  }
  return names;
}

/** Summarises a PEM certificate; throws on anything that is not a well-formed X.509 certificate. */
export function inspectCertificate(certPem: string): CertificateSummary {
  const der = new X509Certificate(certPem).raw; // OpenSSL parses it first: PEM armour and overall shape
  const tbs = childrenOf(childrenOf(readDer(der), 'Certificate')[0], 'TBSCertificate');
  const fields = isContextTag(tbs[0]!, 0) ? tbs.slice(1) : tbs; // [0] version is optional (v1)
  const validity = childrenOf(fields[3], 'Validity');
  const subject = fields[4];
  if (!subject || !isUniversalType(subject, DerType.SEQUENCE)) throw new Error('malformed certificate: subject');
  const extensions = extensionsOf(fields);
  const find = (oid: string) => extensions.find((e) => e.oid === oid)?.value;
  const nameConstraints = find(NAME_CONSTRAINTS_OID);
  const keyId = find(SUBJECT_KEY_IDENTIFIER_OID);
  return {
    ...namesOf(find(SUBJECT_ALT_NAME_OID)),
    notBefore: timeOf(validity[0]),
    notAfter: timeOf(validity[1]),
    subjectDer: Buffer.from(subject.raw),
    nameConstraints: nameConstraints ? parseNameConstraints(nameConstraints) : null,
    keyId: keyId ? Buffer.from(contentOf(readDer(keyId), 'keyIdentifier')) : null,
  };
}

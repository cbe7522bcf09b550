// Reads what Beep needs from a certificate of any key type (forge's reader refuses non-RSA keys):
// validity, the names it covers, its name constraints, its key id and its subject, byte for byte.
import { X509Certificate } from 'node:crypto';
import { children, contents, dateOf, decode, encode, isContext, isUniversal, oidOf, Types, type Asn1 } from './der';
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

function extensionsOf(tbs: Asn1[]): ExtensionEntry[] {
  const wrapper = tbs.find((node) => isContext(node, 3));
  if (!wrapper) return [];
  return children(children(wrapper, 'extensions')[0], 'Extensions').map((ext) => {
    const parts = children(ext, 'Extension');
    const value = parts[parts.length - 1]; // extnID, critical (optional), extnValue
    return { oid: oidOf(parts[0]), value: contents(value, 'extnValue') };
  });
}

function namesOf(sanDer: Buffer | undefined): WantedNames {
  const names: WantedNames = { hostnames: [], addresses: [] };
  if (!sanDer) return names;
  for (const entry of children(decode(sanDer), 'GeneralNames')) {
    if (isContext(entry, DNS_NAME_TAG)) {
      names.hostnames.push(contents(entry, 'dNSName').toString('ascii').toLowerCase());
    } else if (isContext(entry, IP_ADDRESS_TAG)) {
      const address = addressFromBytes(contents(entry, 'iPAddress'));
      if (address !== null) names.addresses.push(address);
    }
  }
  return names;
}

/** Summarises a PEM certificate; throws on anything that is not a well-formed X.509 certificate. */
export function inspectCertificate(certPem: string): CertificateSummary {
  const der = new X509Certificate(certPem).raw; // OpenSSL parses it first: PEM armour and overall shape
  const tbs = children(children(decode(der), 'Certificate')[0], 'TBSCertificate');
  const fields = isContext(tbs[0]!, 0) ? tbs.slice(1) : tbs; // [0] version is optional (v1)
  const validity = children(fields[3], 'Validity');
  const subject = fields[4];
  if (!subject || !isUniversal(subject, Types.SEQUENCE)) throw new Error('malformed certificate: subject');
  const extensions = extensionsOf(fields);
  const find = (oid: string) => extensions.find((e) => e.oid === oid)?.value;
  const nameConstraints = find(NAME_CONSTRAINTS_OID);
  const keyId = find(SUBJECT_KEY_IDENTIFIER_OID);
  return {
    ...namesOf(find(SUBJECT_ALT_NAME_OID)),
    notBefore: dateOf(validity[0]),
    notAfter: dateOf(validity[1]),
    subjectDer: encode(subject),
    nameConstraints: nameConstraints ? parseNameConstraints(nameConstraints) : null,
    keyId: keyId ? contents(decode(keyId), 'keyIdentifier') : null,
  };
}

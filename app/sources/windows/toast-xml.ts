import type { XMLParser } from 'fast-xml-parser';

/** fast-xml-parser, loaded with the first toast read: only a Windows capture needs it. */
const xmlParser = () => require('fast-xml-parser') as typeof import('fast-xml-parser');

// The parts of a Windows toast's XML payload Beep relays (the toast content schema:
// <toast launch activationType scenario><visual><binding template><text/>…<image placement/>
// </binding></visual><actions><action activationType arguments/></actions></toast>), read with
// fast-xml-parser in document order. No DTD is fetched; entity expansion is bounded.

/** Why a payload could not be read as a toast: a bounded label for the skip metric. */
export type ToastFault = 'malformed_xml' | 'not_a_toast';

/** A payload that is not a readable toast; `reason` is counted, `message` is logged. */
export class ToastError extends Error {
  constructor(
    readonly reason: ToastFault,
    message: string,
  ) {
    super(message);
    this.name = 'ToastError';
  }
}

/** What a toast says, before it becomes a Beep notification. */
export interface Toast {
  /** Every <text> of the chosen binding in document order (groups included), trimmed, empty ones left out. */
  texts: string[];
  /** The text with placement="attribution" (the source, e.g. a web site), if any. */
  attribution: string | null;
  /** The toast's scenario attribute (alarm, reminder, incomingCall, urgent), if any. */
  scenario: string | null;
  /** An http(s) address the toast opens: its launch (protocol activation) or a protocol action's. */
  url: string | null;
  /** The appLogoOverride image, when it is an http(s) or file address. */
  icon: string | null;
}

type XmlNode = Record<string, unknown>;

/** Longest address kept: the wire's url limit (PROTOCOL.md). */
const MAX_URL_CHARS = 2048;

function tagOf(node: XmlNode): string | null {
  return Object.keys(node).find((k) => k !== ':@') ?? null;
}

function childrenOf(node: XmlNode | undefined): XmlNode[] {
  const tag = node && tagOf(node);
  const value = tag ? node[tag] : undefined;
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

function attr(node: XmlNode | undefined, name: string): string | null {
  const attrs = node?.[':@'] as Record<string, unknown> | undefined;
  const value = attrs?.[name];
  return typeof value === 'string' ? value : null;
}

function child(node: XmlNode | undefined, tag: string): XmlNode | undefined {
  return childrenOf(node).find((c) => tagOf(c) === tag);
}

/** The text content of an element: its text and CDATA children, joined. */
function textOf(node: XmlNode): string {
  return childrenOf(node)
    .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : textOf(c)))
    .join('');
}

/** The <text> elements of a binding, groups and subgroups included, in document order. */
function textElements(node: XmlNode): XmlNode[] {
  return childrenOf(node).flatMap((c) => (tagOf(c) === 'text' ? [c] : ['group', 'subgroup'].includes(tagOf(c) ?? '') ? textElements(c) : []));
}

function address(value: string | null, schemes: string[]): string | null {
  if (!value || value.length > MAX_URL_CHARS) return null;
  try {
    return schemes.includes(new URL(value.trim()).protocol) ? value.trim() : null;
  } catch {
    return null;
  }
}

function parser(): XMLParser {
  return new (xmlParser().XMLParser)({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    htmlEntities: true,
    processEntities: { enabled: true, maxEntitySize: 1000, maxTotalExpansions: 100, maxExpandedLength: 10_000, maxEntityCount: 10 },
  });
}

/**
 * Reads a toast payload; throws ToastError for anything that is not well-formed toast XML.
 *
 *   parseToast('<toast scenario="reminder"><visual><binding template="ToastGeneric"><text>Standup</text>…')
 *   // { texts: ['Standup', …], scenario: 'reminder', url: null, … }
 */
export function parseToast(xml: string): Toast {
  const valid = xmlParser().XMLValidator.validate(xml);
  if (valid !== true) throw new ToastError('malformed_xml', `line ${valid.err.line}: ${valid.err.msg}`);
  let nodes: XmlNode[];
  try {
    nodes = parser().parse(xml) as XmlNode[];
  } catch (error) {
    throw new ToastError('malformed_xml', (error as Error).message);
  }
  const root = nodes.find((n) => !(tagOf(n) ?? '?').startsWith('?') && !(tagOf(n) ?? '#').startsWith('#'));
  if (!root || tagOf(root) !== 'toast') throw new ToastError('not_a_toast', `root element is <${(root && tagOf(root)) ?? 'none'}>, not <toast>`);

  const bindings = childrenOf(child(root, 'visual')).filter((c) => tagOf(c) === 'binding');
  const binding = bindings.find((b) => attr(b, 'template') === 'ToastGeneric') ?? bindings[0];
  const texts: string[] = [];
  let attribution: string | null = null;
  for (const element of binding ? textElements(binding) : []) {
    const text = textOf(element).trim();
    if (!text) continue;
    if (attr(element, 'placement') === 'attribution') attribution ??= text;
    else texts.push(text);
  }

  const logo = childrenOf(binding).find((c) => tagOf(c) === 'image' && attr(c, 'placement') === 'appLogoOverride');
  const protocolAction = childrenOf(child(root, 'actions')).find((c) => tagOf(c) === 'action' && attr(c, 'activationType') === 'protocol');
  const launch = attr(root, 'activationType') === 'protocol' ? address(attr(root, 'launch'), ['http:', 'https:']) : null;
  return {
    texts,
    attribution,
    scenario: attr(root, 'scenario'),
    url: launch ?? address(attr(protocolAction, 'arguments'), ['http:', 'https:']),
    icon: address(attr(logo, 'src'), ['http:', 'https:', 'file:']),
  };
}

// Toast payloads in the shapes Windows apps really send (the toast content schema, as in
// Microsoft's toast samples and the payloads forensic write-ups show from wpndatabase.db):
// legacy templates, ToastGeneric with two lines, hero and logo images, attribution, actions
// with a reply box, scenarios, protocol activation, adaptive groups, non-ASCII text; and the
// broken ones the source must skip. Used by the unit and the integration tests.

/** ToastText01: one wrapping line, the oldest template (e.g. a Win32 app through the legacy API). */
export const PLAIN = `<toast><visual><binding template="ToastText01"><text id="1">Backup finished</text></binding></visual></toast>`;

/** ToastGeneric, title and body, with the XML declaration and whitespace a serializer leaves. */
export const TWO_LINES = `<?xml version="1.0" encoding="utf-8"?>
<toast launch="action=viewMessage&amp;id=42">
  <visual>
    <binding template="ToastGeneric">
      <text>Build 1432 passed</text>
      <text>main · 3 minutes</text>
    </binding>
  </visual>
</toast>`;

/** A hero image, a circled logo override (an https address: becomes the icon) and an attribution line. */
export const HERO = `<toast launch="action=viewPhoto&amp;photoId=92187">
  <visual>
    <binding template="ToastGeneric">
      <image placement="hero" src="https://picsum.photos/364/180?image=1043"/>
      <image placement="appLogoOverride" hint-crop="circle" src="https://example.com/avatars/andrew.png"/>
      <text>Andrew sent you a picture</text>
      <text>Check this out, Happy Canyon in Utah!</text>
      <text placement="attribution">via SMS</text>
    </binding>
  </visual>
</toast>`;

/** A reply box, a background action and a protocol action (its https address becomes the url). */
export const ACTIONS = `<toast launch="action=openThread&amp;threadId=92187">
  <visual>
    <binding template="ToastGeneric">
      <text>Andrew Bares</text>
      <text>Shall we go to the movies tonight?</text>
    </binding>
  </visual>
  <actions>
    <input id="tbReply" type="text" placeHolderContent="Type a reply"/>
    <action content="Reply" arguments="action=reply&amp;threadId=92187" activationType="background" hint-inputId="tbReply"/>
    <action content="Open in browser" arguments="https://chat.example.com/threads/92187" activationType="protocol"/>
  </actions>
</toast>`;

/** A scenario toast; reminder/alarm/incomingCall/urgent stay on screen, Beep raises their priority. */
export function scenario(name: string, title: string): string {
  return `<toast scenario="${name}" launch="action=snooze">
  <visual><binding template="ToastGeneric"><text>${title}</text><text>${name} scenario</text></binding></visual>
  <actions><action activationType="system" arguments="snooze" content=""/><action activationType="system" arguments="dismiss" content=""/></actions>
</toast>`;
}

/** Protocol activation on the toast itself: clicking opens the address (an Outlook calendar reminder). */
export const PROTOCOL_LAUNCH = `<toast scenario="reminder" activationType="protocol" launch="https://outlook.office.com/calendar/item/AAMkAD">
  <visual><binding template="ToastGeneric"><text>Standup</text><text>10:00 – 10:15, Room 4</text></binding></visual>
</toast>`;

/** Non-ASCII text, entities, a numeric reference and CDATA, the way chat apps write them. */
export const NON_ASCII = `<toast><visual><binding template="ToastGeneric">
  <text>Zoë Łukasiewicz</text>
  <text>Привет! 日本語のテキスト 🍝 &amp; &lt;b&gt; caf&#233;</text>
  <text><![CDATA[Tom & Jerry <3]]></text>
</binding></visual></toast>`;

/** Adaptive content: groups and subgroups after the title. */
export const ADAPTIVE = `<toast><visual><binding template="ToastGeneric">
  <text>Weather</text>
  <group><subgroup><text hint-style="base">Mon</text><text hint-style="captionSubtle">63°</text></subgroup>
  <subgroup><text hint-style="base">Tue</text></subgroup></group>
</binding></visual></toast>`;

/** Not well-formed: a <text> never closed. */
export const MALFORMED = `<toast><visual><binding template="ToastGeneric"><text>unclosed</binding></visual></toast>`;
/** Not XML at all. */
export const NOT_XML = `{"title": "json is not a toast"}`;
/** Well-formed, but a tile's payload stored under Type 'toast'. */
export const NOT_A_TOAST = `<tile><visual><binding template="TileMedium"><text>tile text</text></binding></visual></tile>`;
/** Bytes that are not UTF-8. */
export const NOT_UTF8 = Buffer.from([0x3c, 0x74, 0x6f, 0x61, 0x73, 0x74, 0x3e, 0xff, 0xfe, 0xc3, 0x28, 0x3c, 0x2f]);

/** A badge and a tile, as the platform stores them (Type 'badge' / 'tile'): never relayed. */
export const BADGE = `<badge value="7"/>`;
export const TILE = `<tile><visual><binding template="TileWide"><text>Inbox: 7 unread</text></binding></visual></tile>`;

/** A toast payload in UTF-16 with a byte-order mark (how .NET's XmlDocument saves by default). */
export function utf16(xml: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
}

/** A ToastGeneric toast with a title and a body line. */
export function toast(title: string, body = ''): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<toast><visual><binding template="ToastGeneric"><text>${esc(title)}</text>${body ? `<text>${esc(body)}</text>` : ''}</binding></visual></toast>`;
}

import { friendlyAppName, SkippedToast, toastToInput } from '../../../app/sources/windows/toast-record';
import { parseToast } from '../../../app/sources/windows/toast-xml';
import * as T from '../../helpers/toasts';

// A toast row as a Beep notification: the payload shapes Windows apps send, the app name from
// the handler's id, the priority from the scenario, and the payloads that must be skipped with
// a reason (counted by the source).

const APP = 'Microsoft.WindowsTerminal_8wekyb3d8bbwe!App';

function skipReason(payload: string | Buffer | null): string {
  try {
    toastToInput(payload, APP, null);
  } catch (error) {
    if (error instanceof SkippedToast) return error.reason;
    throw error;
  }
  throw new Error('not skipped');
}

describe('toast payloads', () => {
  test('plain text (ToastText01): the one line is the title', () => {
    expect(toastToInput(T.PLAIN, APP, null)).toMatchObject({ title: 'Backup finished', body: '', priority: 3, url: null, source: 'windows' });
  });

  test('two lines with a declaration and indentation: title and body, launch arguments are not a url', () => {
    expect(toastToInput(T.TWO_LINES, APP, null)).toMatchObject({ title: 'Build 1432 passed', body: 'main · 3 minutes', url: null, icon: null });
  });

  test('hero image: text around it, the logo override becomes the icon, attribution ends the body', () => {
    expect(toastToInput(T.HERO, APP, null)).toMatchObject({
      title: 'Andrew sent you a picture',
      body: 'Check this out, Happy Canyon in Utah!\nvia SMS',
      icon: 'https://example.com/avatars/andrew.png',
    });
  });

  test('actions: the reply box and background action are ignored, the protocol action is the url', () => {
    expect(toastToInput(T.ACTIONS, APP, null)).toMatchObject({
      title: 'Andrew Bares',
      body: 'Shall we go to the movies tonight?',
      url: 'https://chat.example.com/threads/92187',
    });
  });

  test('scenarios raise the priority: reminder high, alarm / incomingCall / urgent urgent', () => {
    expect(toastToInput(T.scenario('reminder', 'r'), APP, null).priority).toBe(4);
    expect(toastToInput(T.scenario('alarm', 'a'), APP, null).priority).toBe(5);
    expect(toastToInput(T.scenario('incomingCall', 'c'), APP, null).priority).toBe(5);
    expect(toastToInput(T.scenario('urgent', 'u'), APP, null).priority).toBe(5);
    expect(toastToInput(T.scenario('default', 'd'), APP, null).priority).toBe(3);
  });

  test('protocol activation on the toast: its launch address is the url', () => {
    expect(toastToInput(T.PROTOCOL_LAUNCH, APP, null)).toMatchObject({ title: 'Standup', priority: 4, url: 'https://outlook.office.com/calendar/item/AAMkAD' });
  });

  test('non-ASCII text, entities, numeric references and CDATA come through as text', () => {
    const input = toastToInput(T.NON_ASCII, APP, null);
    expect(input.title).toBe('Zoë Łukasiewicz');
    expect(input.body).toBe('Привет! 日本語のテキスト 🍝 & <b> café\nTom & Jerry <3');
    expect(toastToInput(T.utf16(T.NON_ASCII), APP, null)).toEqual(input);
  });

  test('adaptive groups: their texts follow the title in document order', () => {
    expect(toastToInput(T.ADAPTIVE, APP, null)).toMatchObject({ title: 'Weather', body: 'Mon\n63°\nTue' });
  });

  test('a launch address that is not http(s) is not a url; a javascript: action neither', () => {
    const xml = `<toast activationType="protocol" launch="ms-settings:notifications"><visual><binding template="ToastGeneric"><text>x</text></binding></visual>
      <actions><action content="x" activationType="protocol" arguments="javascript:alert(1)"/></actions></toast>`;
    expect(toastToInput(xml, APP, null).url).toBeNull();
  });

  test('malformed and foreign payloads are skipped with a reason', () => {
    expect(skipReason(T.MALFORMED)).toBe('malformed_xml');
    expect(skipReason(T.NOT_XML)).toBe('malformed_xml');
    expect(skipReason(T.NOT_A_TOAST)).toBe('not_a_toast');
    expect(skipReason(T.NOT_UTF8)).toBe('unreadable');
    expect(skipReason(null)).toBe('unreadable');
    expect(skipReason('<toast><visual><binding template="ToastGeneric"></binding></visual></toast>')).toBe('empty');
    expect(skipReason(Buffer.alloc(70_000, 0x20))).toBe('too_large');
  });

  test('entity expansion is bounded and no external entity is read', () => {
    const nested = `<!DOCTYPE toast [<!ENTITY a "${'x'.repeat(900)}">]><toast><visual><binding template="ToastGeneric"><text>${'&a;'.repeat(50)}</text></binding></visual></toast>`;
    expect(skipReason(nested)).toBe('malformed_xml');
    const external = `<!DOCTYPE toast [<!ENTITY e SYSTEM "file:///etc/passwd">]><toast><visual><binding template="ToastGeneric"><text>a&e;b</text></binding></visual></toast>`;
    expect(skipReason(external)).toBe('malformed_xml');
    expect(() => parseToast(external)).toThrow(/External entities are not supported/);
  });

  test('long text is cut to the wire limits', () => {
    const input = toastToInput(T.toast('t'.repeat(400), 'b'.repeat(5000)), APP, null);
    expect(Buffer.byteLength(input.title)).toBeLessThanOrEqual(256);
    expect(Buffer.byteLength(input.body)).toBeLessThanOrEqual(4096);
  });
});

describe('app names from the handler', () => {
  test('a display name from HandlerAssets wins; a resource reference does not', () => {
    expect(friendlyAppName(APP, 'Windows Terminal')).toBe('Windows Terminal');
    expect(friendlyAppName(APP, 'ms-resource:AppName')).toBe('Microsoft.WindowsTerminal');
  });

  test('AUMIDs: the application part after "!", the package name when that part is the generic "App"', () => {
    expect(friendlyAppName('microsoft.windowscommunicationsapps_8wekyb3d8bbwe!microsoft.windowslive.mail', null)).toBe('microsoft.windowslive.mail');
    expect(friendlyAppName('Microsoft.WindowsStore_8wekyb3d8bbwe!App', null)).toBe('Microsoft.WindowsStore');
  });

  test('known ids, system toasts, executable paths, and anything else as it is', () => {
    expect(friendlyAppName('Microsoft.Office.OUTLOOK.EXE.15', null)).toBe('Outlook');
    expect(friendlyAppName('Chrome', null)).toBe('Google Chrome');
    expect(friendlyAppName('MSEdge', null)).toBe('Microsoft Edge');
    expect(friendlyAppName('Windows.SystemToast.SecurityAndMaintenance', null)).toBe('Windows');
    expect(friendlyAppName('{6D809377-6AF0-444B-8957-A3773F02200E}\\Mozilla Firefox\\firefox.exe', null)).toBe('firefox');
    expect(friendlyAppName('Slack', null)).toBe('Slack');
  });

  test('the raw id stays available to rules as the desktop entry', () => {
    expect(toastToInput(T.PLAIN, 'Microsoft.Office.OUTLOOK.EXE.15', null)).toMatchObject({ app: 'Outlook', desktopEntry: 'Microsoft.Office.OUTLOOK.EXE.15' });
  });
});

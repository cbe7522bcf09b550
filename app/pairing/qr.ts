// QR codes for the pairing URL: SVG for the admin API and dashboard, text for a terminal.
// qrcode (~8 MB resident) is loaded when the first code is drawn, not at start.

/** Medium error correction: survives a glare on a laptop screen, still small. */
const ERROR_CORRECTION = 'M';

export async function qrSvg(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: ERROR_CORRECTION, margin: 2 });
}

export async function qrTerminal(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: ERROR_CORRECTION });
}

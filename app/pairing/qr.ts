import QRCode from 'qrcode';

// QR codes for the pairing URL: SVG for the admin API and dashboard, text for a terminal.

/** Medium error correction: survives a glare on a laptop screen, still small. */
const ERROR_CORRECTION = 'M';

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: ERROR_CORRECTION, margin: 2 });
}

export function qrTerminal(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: ERROR_CORRECTION });
}

// The referral link as a QR code, drawn here as SVG: no external service sees the link.
import QRCode from "qrcode";

/** Only the HTML dashboard draws one, so the JSON API never pays for it. */
export function qrCodeSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
}

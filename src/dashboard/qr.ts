// QR codes as SVG for short links: one path of dark modules, black on a white quiet zone.
import qrcode from "qrcode-generator";

// The library encodes Byte mode as Latin-1 (one byte per UTF-16 unit); URLs may carry UTF-8.
const utf8 = new TextEncoder();
qrcode.stringToBytes = (text: string) => Array.from(utf8.encode(text));

export interface QrOptions {
  /** Accessible name, e.g. "QR code for https://example.com/l/launch". */
  title?: string;
  /** Rendered size in CSS pixels (the SVG scales; this only sets width/height). */
  size?: number;
}

/** The dark modules of the smallest QR code (error correction M) that holds `text`. */
export function qrMatrix(text: string): boolean[][] {
  const code = qrcode(0, "M");
  code.addData(text, "Byte");
  code.make();
  const n = code.getModuleCount();
  return Array.from({ length: n }, (_, row) => Array.from({ length: n }, (_, col) => code.isDark(row, col)));
}

export function qrSvg(text: string, options: QrOptions = {}): string {
  const matrix = qrMatrix(text);
  const quiet = 4;
  const n = matrix.length + quiet * 2;
  let path = "";
  matrix.forEach((cells, row) => {
    // One horizontal run per stretch of dark modules keeps the path short.
    for (let col = 0; col < cells.length; ) {
      if (!cells[col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < cells.length && cells[col]) col++;
      path += `M${start + quiet} ${row + quiet}h${col - start}v1h-${col - start}z`;
    }
  });
  const size = options.size ?? 200;
  const title = Bun.escapeHTML(options.title ?? `QR code for ${text}`);
  // Scanners need dark modules on a light quiet zone whatever the page's theme: black on white.
  return (
    `<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n} ${n}" width="${size}" height="${size}" role="img" shape-rendering="crispEdges">` +
    `<title>${title}</title>` +
    `<rect width="${n}" height="${n}" fill="#fff"/>` +
    `<path d="${path}" fill="#000"/>` +
    `</svg>`
  );
}

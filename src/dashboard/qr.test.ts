import { describe, expect, test } from "bun:test";
import jsQR from "jsqr";
import { qrSvg } from "./qr.ts";

/** Rasterises the SVG's own path (not the library's matrix) and reads it back with a QR decoder. */
function decodeSvg(svg: string): string | null {
  const size = Number(/viewBox="0 0 (\d+) \d+"/.exec(svg)![1]);
  const scale = 4;
  const px = size * scale;
  const pixels = new Uint8ClampedArray(px * px * 4).fill(255);
  const path = /<path d="([^"]+)"/.exec(svg)![1]!;
  for (const m of path.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    const [x, y, w] = [Number(m[1]), Number(m[2]), Number(m[3])];
    for (let dy = 0; dy < scale; dy++)
      for (let dx = 0; dx < w * scale; dx++) {
        const i = ((y * scale + dy) * px + x * scale + dx) * 4;
        pixels[i] = pixels[i + 1] = pixels[i + 2] = 0;
      }
  }
  return jsQR(pixels, px, px)?.data ?? null;
}

describe("QR code", () => {
  test("a short URL's QR code scans back to the same URL", () => {
    const url = "https://go.example.com/l/spring-launch";
    expect(decodeSvg(qrSvg(url))).toBe(url);
  });

  test("long URLs with UTF-8 still scan", () => {
    const url = `https://example.com/l/${"x".repeat(150)}?q=${encodeURIComponent("café")}`;
    expect(decodeSvg(qrSvg(url))).toBe(url);
  });

  test("is black on white with a quiet zone, whatever the page theme, and has an escaped title", () => {
    const svg = qrSvg("https://e.com/l/a", { title: "<script>x</script>", size: 160 });
    expect(svg).toContain('fill="#fff"');
    expect(svg).toContain('fill="#000"');
    expect(svg).toContain('width="160"');
    expect(svg).not.toContain("<script>");
    expect(svg).toContain('role="img"');
  });
});

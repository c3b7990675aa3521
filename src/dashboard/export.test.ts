import { describe, expect, test } from "bun:test";
import { csvCell, csvResponse, csvRow, csvStream } from "./export.ts";

describe("CSV cells", () => {
  test("quotes commas, quotes and line breaks", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell(" padded ")).toBe('" padded "');
  });

  test("text that a spreadsheet would run as a formula is neutralised", () => {
    expect(csvCell("=HYPERLINK(\"http://evil\")")).toBe("\"'=HYPERLINK(\"\"http://evil\"\")\"");
    expect(csvCell("+1+1")).toBe("'+1+1");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tcmd")).toBe("'\tcmd");
  });

  test("numbers stay numbers, negative amounts included; empty values are empty", () => {
    expect(csvCell(-1250)).toBe("-1250");
    expect(csvCell(3.5)).toBe("3.5");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell(true)).toBe("true");
  });

  test("rows end with CRLF", () => {
    expect(csvRow(["a", 1, null])).toBe("a,1,\r\n");
  });
});

describe("CSV stream", () => {
  test("streams the header and every page, asking for each page after the last cursor", async () => {
    const data = Array.from({ length: 25 }, (_, i) => i + 1);
    const cursors: (number | null)[] = [];
    const stream = csvStream<number>(["n", "label"], (after) => {
      cursors.push(after);
      const rows = data.filter((n) => n > (after ?? 0)).slice(0, 10);
      return { rows: rows.map((n) => [n, `row ${n}`]), last: rows.at(-1) ?? null };
    });
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // UTF-8 byte-order mark
    const text = new TextDecoder().decode(bytes);
    const lines = text.split("\r\n").filter(Boolean);
    expect(lines[0]).toBe("n,label");
    expect(lines).toHaveLength(26);
    expect(lines[25]).toBe("25,row 25");
    expect(cursors).toEqual([null, 10, 20, 25]);
  });

  test("answers as a CSV download with a safe file name", () => {
    const response = csvResponse('links "2026".csv', new Response("").body!);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="links__2026_.csv"');
  });
});

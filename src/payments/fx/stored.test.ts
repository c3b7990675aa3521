// How the background re-conversion sizes its chunks so each holds the event loop ~8 ms.
import { expect, test } from "bun:test";
import { nextChunkRows } from "./stored.ts";

test("a chunk that took twice its target halves the next; a quick one at most doubles it", () => {
  expect(nextChunkRows(400, 400, 16)).toBe(200);
  expect(nextChunkRows(400, 400, 2)).toBe(800);
  expect(nextChunkRows(400, 400, 8)).toBe(400);
});

test("a chunk stays between 50 and 5,000 rows, and a short tail keeps the size", () => {
  expect(nextChunkRows(60, 60, 500)).toBe(50);
  expect(nextChunkRows(4000, 4000, 1)).toBe(5000);
  expect(nextChunkRows(30, 400, 3)).toBe(400);
});

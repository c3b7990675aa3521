// Background loops that wait for their turns never run two units in one turn of the event loop,
// where plain timers do: a request then waits for one unit of background work, not for three.
import { expect, test } from "bun:test";
import { backgroundTurn } from "./turns.ts";

/** Runs three loops of ten units, each waiting with `wait`; says how many units ran in a turn that already had one. */
async function unitsSharingATurn(wait: () => Promise<unknown>): Promise<number> {
  // Once per turn of the event loop: the check phase runs one immediate, and the one it sets runs on the next turn.
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const turns: number[] = [];
  const loop = async () => {
    for (let unit = 0; unit < 10; unit++) {
      await wait();
      turns.push(turn);
      const busy = performance.now();
      while (performance.now() - busy < 1);
    }
  };
  await Promise.all([loop(), loop(), loop()]);
  counting = false;
  return turns.length - new Set(turns).size;
}

test("units of background work each get a turn of their own; plain timers share turns", async () => {
  expect(await unitsSharingATurn(() => new Promise((resolve) => setTimeout(resolve, 0)))).toBeGreaterThan(0);
  expect(await unitsSharingATurn(backgroundTurn)).toBe(0);
});

// Background work takes turns: the warm-up's slices and a re-conversion's chunks each wait for a turn
// of the event loop, one unit per turn. Left to their own timers, units due at the same moment ran
// back to back before the loop read its sockets again, and a request waited for all of them.
const waiting: (() => void)[] = [];
let scheduled = false;

function release(): void {
  scheduled = false;
  waiting.shift()?.();
  // Set from a timer, the next one fires on a later turn, after the loop has read its sockets.
  if (waiting.length > 0) schedule();
}

function schedule(): void {
  scheduled = true;
  setTimeout(release, 0);
}

/** Resolves on a turn of the event loop that no other background unit has: await it before each unit of background work. */
export function backgroundTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) schedule();
  });
}

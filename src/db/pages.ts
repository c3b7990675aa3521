// Reads made a page at a time: a generator yields between pages and returns what it read. A request
// reads every page at once; the background warm-up pauses between them so redirects run meanwhile.

/** Every page at once. */
export function readAllPages<T>(pages: Generator<void, T>): T {
  let page = pages.next();
  while (!page.done) page = pages.next();
  return page.value;
}

/** Every page, awaiting `pause()` between pages. */
export async function readPagesPausing<T>(pages: Generator<void, T>, pause: () => Promise<unknown>): Promise<T> {
  let page = pages.next();
  while (!page.done) {
    await pause();
    page = pages.next();
  }
  return page.value;
}

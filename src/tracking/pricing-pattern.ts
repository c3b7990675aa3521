// The project's pricing page pattern: paths where `*` stands for anything, alternatives separated by commas
// ("/pricing*", "/plans, /*/pricing"). Matched piece by piece, never with a backtracking regular expression,
// so a hostile path or pattern costs time linear in the path.

export const MAX_PRICING_PATTERN_LENGTH = 200;
/** The collect URL is at most 4,096 characters; a longer path is never a pricing page. */
const MAX_MATCHED_PATH_LENGTH = 4096;

/** What is wrong with a pricing pattern typed in settings, or undefined. */
export function pricingPatternError(pattern: string): string | undefined {
  if (!pattern.startsWith("/")) return "A path pattern starts with / (e.g. /pricing*).";
  if (pattern.length > MAX_PRICING_PATTERN_LENGTH || /[\s\p{Cc}]/u.test(pattern)) {
    return `Use a path without spaces, under ${MAX_PRICING_PATTERN_LENGTH} characters.`;
  }
  if (pattern.split(",").some((alternative) => !alternative.startsWith("/"))) return "Separate paths with a comma, each starting with / (e.g. /pricing*,/plans).";
  return undefined;
}

/** One alternative: the text before the first `*` must start the path, the text after the last must end it, and
 * the pieces between must appear in order; taking each piece's leftmost place leaves the most room for the rest. */
function globMatcher(glob: string): (path: string) => boolean {
  const pieces = glob.split("*");
  if (pieces.length === 1) return (path) => path === glob;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter(Boolean);
  const shortest = pieces.join("").length;
  return (path) => {
    if (path.length < shortest || !path.startsWith(first) || !path.endsWith(last)) return false;
    const end = path.length - last.length;
    let at = first.length;
    for (const piece of middle) {
      const found = path.indexOf(piece, at);
      if (found === -1 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

const matchers = new Map<string, (path: string) => boolean>();

export function pricingPathMatcher(pattern: string): (path: string) => boolean {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    const alternatives = pattern.length > MAX_PRICING_PATTERN_LENGTH ? [] : pattern.split(",").map((part) => part.trim()).filter(Boolean).map(globMatcher);
    matcher = (path) => path.length <= MAX_MATCHED_PATH_LENGTH && alternatives.some((matches) => matches(path));
    if (matchers.size >= 1000) matchers.clear();
    matchers.set(pattern, matcher);
  }
  return matcher;
}

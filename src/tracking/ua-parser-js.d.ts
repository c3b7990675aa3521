// ua-parser-js 1.0.41 (the last MIT release) ships no types; this is the part Bantico uses.
declare module "ua-parser-js" {
  interface UAParserResult {
    browser: { name?: string; version?: string };
    os: { name?: string; version?: string };
    device: { type?: string; vendor?: string; model?: string };
  }
  const UAParser: { new (ua?: string): { getResult(): UAParserResult }; (ua?: string): UAParserResult };
  export default UAParser;
}

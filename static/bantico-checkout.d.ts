// The checkout links add-on's source, imported as text (`with { type: "text" }`) by src/tracking/script.ts.
declare const source: string;
export default source;

// Prints the size of the core tracker as served (minified; gzip and brotli). Goal: at most 1,500 bytes gzipped.
import { trackerAsset } from "../src/tracking/script.ts";

const asset = trackerAsset();
console.log(`tracker /bantico.js: ${asset.body.length} bytes minified, ${asset.gzip.length} bytes gzip, ${asset.brotli.length} bytes brotli (goal: gzip <= 1500)`);

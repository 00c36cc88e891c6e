// Render each formula with KaTeX as the chat UI would, and say whether it parses.
// Input: one JSON object per line, {"tex": "...", "display": true|false}.
// Output: one JSON object per input line, {"ok": true} or {"ok": false, "error": "KaTeX parse error: ..."}.
"use strict";

const readline = require("readline");
const katex = require("katex");

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });

lines.on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  let result;
  try {
    const { tex, display } = JSON.parse(line);
    katex.renderToString(tex, { displayMode: Boolean(display), throwOnError: true, strict: "ignore" });
    result = { ok: true };
  } catch (err) {
    result = { ok: false, error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
});

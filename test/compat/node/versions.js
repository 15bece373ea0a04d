"use strict";

// The installed versions of the packages a script uses, as each script
// reports them beside its result (the compatibility matrix records them).

const fs = require("node:fs");
const path = require("node:path");

function version(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "";
  }
}

module.exports = function versions(...pkgs) {
  const out = { node: process.versions.node };
  for (const pkg of pkgs) {
    out[pkg] = version(pkg);
  }
  return out;
};

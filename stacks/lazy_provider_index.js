"use strict";
// The Node.js half of stacks/provider_bindings.py: loaded into the jsii kernel's processes
// through NODE_OPTIONS (--require), it makes `@cdktf/provider-aws`'s `lib/index.js` require a
// resource module when the kernel first looks a type up in it, instead of all 2,212 at once
// (1.4 s of CPU per process here). Each `exports.x = require("./x")` line becomes a getter that
// requires `./x` on first read and then keeps it as a plain property. Anything else in the file
// that is not one of the forms below leaves it to Node as it is: slower, never different.
const Module = require("module");
const fs = require("fs");
const path = require("path");

const PACKAGE = "@cdktf/provider-aws";
const EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/;
const HARMLESS = [
  /^"use strict";$/,
  /^\s*(\/\*\*?|\*|\*\/)/, // a block comment's lines
  /^\/\/ /, // a line comment
  /^\/\/# sourceMappingURL=/,
  /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/,
  /^(exports\.[A-Za-z_$][\w$]* = )+void 0;$/, // TypeScript's hoisted declarations
  /^$/,
];

function isProviderIndex(filename) {
  if (path.basename(filename) !== "index.js" || path.basename(path.dirname(filename)) !== "lib") {
    return false;
  }
  try {
    const manifest = path.join(path.dirname(filename), "..", "package.json");
    return JSON.parse(fs.readFileSync(manifest, "utf8")).name === PACKAGE;
  } catch {
    return false;
  }
}

// The exported names and the module each requires, or null when a line has another form.
function lazyExports(content) {
  const found = [];
  for (const line of content.split("\n")) {
    const match = EXPORT.exec(line);
    if (match) {
      found.push([match[1], match[2]]);
    } else if (!HARMLESS.some((form) => form.test(line))) {
      return null;
    }
  }
  return found.length > 0 ? found : null;
}

const compile = Module.prototype._compile;
// Every argument is passed on: newer Node.js versions give `_compile` more than these two.
Module.prototype._compile = function (content, filename, ...rest) {
  const found = isProviderIndex(filename) ? lazyExports(content) : null;
  if (found === null) {
    return compile.call(this, content, filename, ...rest);
  }
  const exports = this.exports;
  Object.defineProperty(exports, "__esModule", { value: true });
  for (const [name, request] of found) {
    Object.defineProperty(exports, name, {
      configurable: true,
      enumerable: true,
      get: () => {
        const value = this.require(request);
        Object.defineProperty(exports, name, { value, enumerable: true, writable: true });
        return value;
      },
    });
  }
  return undefined;
};

#!/usr/bin/env node
// Bundles the browser scripts in client/ into dist/client/ (served at /static/client/).
// The password meter bundles the server's own password rules, so the two always agree.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { build } from "esbuild";

/**
 * The browser cannot read data-files/, so the module that reads Django's common-password list is
 * replaced by the list itself, with its licence as a legal comment (BSD-3 asks for it in binaries).
 */
const inlineDjangoCommonPasswords = {
  name: "inline-django-common-passwords",
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]src[\\/]accounts[\\/]django-common-passwords\.ts$/ }, () => {
      const dataFiles = new URL("../data-files/", import.meta.url);
      const text = gunzipSync(readFileSync(new URL("django-common-passwords.txt.gz", dataFiles))).toString();
      const licence = readFileSync(new URL("django-common-passwords.LICENSE", dataFiles), "utf8");
      return {
        contents: `/*! ${licence.replaceAll("*/", "* /")} */\nexport const djangoCommonPasswordText = ${JSON.stringify(text)};\n`,
        loader: "js",
      };
    });
  },
};

const started = performance.now();
await build({
  entryPoints: ["client/password-meter.ts", "client/dashboard.ts"],
  outdir: "dist/client",
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  platform: "browser",
  legalComments: "linked",
  logLevel: "warning",
  plugins: [inlineDjangoCommonPasswords],
});
console.log(`client scripts built in ${Math.round(performance.now() - started)} ms`);

#!/usr/bin/env node
// Bundles the browser scripts in client/ into dist/client/ (served at /static/client/).
// The password meter bundles the server's own password rules, so the two always agree.
import { build } from "esbuild";

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
});
console.log(`client scripts built in ${Math.round(performance.now() - started)} ms`);

// Django 3.2's common-password list as text, one entry a line (data-files/ has it and its licence).
// The browser's password meter cannot read files: scripts/build-client.mjs inlines the same text
// in place of this module.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** data-files/ is two levels above this module both in src/accounts (tsx) and in dist/accounts (the build). */
const djangoCommonPasswordsFile = new URL("../../data-files/django-common-passwords.txt.gz", import.meta.url);

export const djangoCommonPasswordText: string = gunzipSync(readFileSync(djangoCommonPasswordsFile)).toString(
  "utf8",
);

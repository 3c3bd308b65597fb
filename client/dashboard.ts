// The dashboard's Copy button: copies the referral link and says so where everyone can see it
// (and screen readers hear it, through the status region). Sharing is client/share.ts.
import { setUpSharing } from "./share.js";

function setUp(): void {
  const button = document.querySelector<HTMLButtonElement>("#copy-link");
  const input = document.querySelector<HTMLInputElement>("#referral-link");
  const status = document.querySelector<HTMLElement>("#copy-status");
  if (!button || !input || !status) return;

  let reset: ReturnType<typeof setTimeout> | undefined;
  const say = (message: string, ok: boolean) => {
    status.textContent = message;
    status.className = `small mt-1 mb-2 copy-status ${ok ? "text-success" : "text-danger"}`;
    button.textContent = ok ? "Copied!" : "Copy";
    clearTimeout(reset);
    reset = setTimeout(() => {
      button.textContent = "Copy";
    }, 2500);
  };

  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      say("Link copied to the clipboard.", true);
    } catch {
      // No clipboard permission (e.g. plain HTTP): select the text so Ctrl+C / long-press works.
      input.focus();
      input.select();
      say("Press Ctrl+C (or ⌘C) to copy the selected link.", false);
    }
  });
}

function start(): void {
  setUp();
  setUpSharing();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

// The dashboard's sharing: every share link carries the message as the person edits it (the same
// addresses the server wrote, from src/web/share-links.ts), and the Share button, shown only where
// the browser has a native share sheet (navigator.share), opens it with the message and the link.
import { messageWithoutLink, type ShareService, shareHref } from "../src/web/share-links.js";

export function setUpSharing(): void {
  const root = document.querySelector<HTMLElement>("#share");
  const message = document.querySelector<HTMLTextAreaElement>("#share-message");
  const status = document.querySelector<HTMLElement>("#share-status");
  if (!root || !message || !status) return;
  const link = root.dataset.shareLink ?? "";
  const subject = root.dataset.shareSubject ?? "";

  const update = () => {
    for (const a of root.querySelectorAll<HTMLAnchorElement>("a[data-share]")) {
      a.href = shareHref(a.dataset.share as ShareService, { message: message.value, link, subject });
    }
  };
  message.addEventListener("input", update);
  // A message edited before going back to the page is restored by the browser: the links follow it.
  update();

  const item = document.querySelector<HTMLElement>("#share-native-item");
  const button = document.querySelector<HTMLButtonElement>("#share-native");
  if (!item || !button || typeof navigator.share !== "function") return;
  item.hidden = false;
  button.addEventListener("click", async () => {
    status.textContent = "";
    try {
      await navigator.share({ title: subject, text: messageWithoutLink(message.value, link), url: link });
    } catch (error) {
      // Closing the share sheet is no failure.
      if (error instanceof DOMException && error.name === "AbortError") return;
      status.className = "small mt-1 mb-0 copy-status text-danger";
      status.textContent =
        "Sharing did not work here: copy the link, or use one of the links beside the button.";
    }
  });
}

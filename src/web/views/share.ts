// Sharing a referral link: the dashboard's link card (the link with Copy, a message the person can
// edit, the native share sheet and plain links to each service's own share page, the QR code), and
// the preview tags of the sign-up page a link opens (Open Graph and Twitter cards).
import { shortDollars } from "../../format.js";
import { html, type SafeHtml, trustedHtml } from "../html.js";
import { referralLink } from "../respond.js";
import { SHARE_TARGETS, type ShareTarget, shareHref } from "../share-links.js";
import type { MetaTag } from "./layout.js";

export const PROGRAMME_NAME = "Referral programme";
/** The email's subject and the share sheet's title. */
export const SHARE_SUBJECT = `Join me on the ${PROGRAMME_NAME}`;
/** The longest message the person may write (the links carry it in their address). */
export const SHARE_MESSAGE_MAX_LENGTH = 500;

/** The ready-made message: "Join me on the Referral programme: sign up with my link and get $10. LINK" */
export function shareMessage(inviteeRewardCents: number, link: string): string {
  const gift = inviteeRewardCents > 0 ? ` and get ${shortDollars(inviteeRewardCents)}` : "";
  return `${SHARE_SUBJECT}: sign up with my link${gift}. ${link}`;
}

export interface ReferralLinkCardModel {
  referralLink: string;
  /** The link as a QR code, an SVG the service drew itself. */
  qrSvg: string;
  inviteeRewardCents: number;
}

/** One plain share link; client/share.ts rewrites its address as the message is edited. */
function shareLink(target: ShareTarget, message: string, link: string): SafeHtml {
  const href = shareHref(target.service, { message, link, subject: SHARE_SUBJECT });
  const name = html`<span class="visually-hidden">${target.lead} </span>${target.name}`;
  return html`<li class="col"><a class="btn btn-outline-primary share-link w-100" data-share="${target.service}"
              href="${href}" rel="noopener"${target.web ? html` target="_blank"` : null}>${name}</a></li>`;
}

/** The dashboard's card: the referral link, Copy, the message and where to share it, the QR code. */
export function referralLinkCard(model: ReferralLinkCardModel): SafeHtml {
  const link = model.referralLink;
  const message = shareMessage(model.inviteeRewardCents, link);
  return html`<section class="card shadow-sm h-100" aria-labelledby="link-heading" id="link-card">
      <div class="card-body">
        <h2 class="h6 text-body-secondary text-uppercase" id="link-heading">Your referral link</h2>
        <label for="referral-link" class="form-label">Share this link with friends:</label>
        <div class="input-group">
          <input id="referral-link" class="form-control font-monospace" readonly value="${link}">
          <button type="button" class="btn btn-primary" id="copy-link" data-copy="referral-link">Copy</button>
        </div>
        <p class="small text-success mt-1 mb-2 copy-status" id="copy-status" role="status" aria-live="polite"></p>
        <div id="share" data-share-link="${link}" data-share-subject="${SHARE_SUBJECT}">
          <label for="share-message" class="form-label">Your message</label>
          <textarea id="share-message" class="form-control" rows="4" maxlength="${SHARE_MESSAGE_MAX_LENGTH}"
            aria-describedby="share-message-help">${message}</textarea>
          <p class="form-text mt-1 mb-2" id="share-message-help">Change it if you like: the buttons below send it with your
            link. Email and SMS open your apps; the others open the service in a new tab.</p>
          <ul class="list-unstyled row row-cols-2 row-cols-sm-auto g-2 mb-0" aria-label="Share your link">
            <li class="col-12 col-sm-auto" id="share-native-item" hidden><button type="button" class="btn btn-primary w-100"
              id="share-native">Share<span class="visually-hidden"> your link</span>…</button></li>
            ${SHARE_TARGETS.map((target) => shareLink(target, message, link))}
          </ul>
          <p class="small mt-1 mb-0 copy-status" id="share-status" role="status" aria-live="polite"></p>
        </div>
        <div class="d-flex flex-column flex-sm-row gap-3 align-items-sm-center mt-3">
          <figure class="referral-qr mb-0" role="img" aria-label="QR code of your referral link">${trustedHtml(model.qrSvg)}</figure>
          <p class="mb-0 small">Friends can scan this code with a phone camera to open your link.</p>
        </div>
      </div>
    </section>`;
}

export interface InvitePreview {
  /** The site's origin, as the referral link is built on (siteOrigin). */
  origin: string;
  token: string;
  inviter: string;
  inviteeRewardCents: number;
}

/** The card image's address for a link: GET /signup/card.png?ref=TOKEN (routes/share-image.ts). */
export function shareCardUrl(origin: string, token: string): string {
  return `${origin}/signup/card.png?ref=${encodeURIComponent(token)}`;
}

/** The headline and the line under it, as the card image and the preview tags say them. */
export function inviteWords(inviter: string | null, inviteeRewardCents: number) {
  return {
    headline: inviter ? `${inviter} invited you` : "You’re invited",
    offer:
      inviteeRewardCents > 0
        ? `Get ${shortDollars(inviteeRewardCents)} when you join`
        : `Join the ${PROGRAMME_NAME}`,
  };
}

/**
 * The preview a pasted link shows in chats and social networks: Open Graph tags (og:) and Twitter's
 * card tags. Only the sign-up page opened through a valid link has them.
 */
export function invitePreviewTags(preview: InvitePreview): MetaTag[] {
  const { origin, token, inviter, inviteeRewardCents } = preview;
  const reward = inviteeRewardCents > 0 ? shortDollars(inviteeRewardCents) : null;
  const title = reward
    ? `${inviter} invited you — get ${reward}`
    : `${inviter} invited you to the ${PROGRAMME_NAME}`;
  const description = reward
    ? `Sign up for the ${PROGRAMME_NAME} with ${inviter}’s link and get ${reward} in credit when you join.`
    : `Sign up for the ${PROGRAMME_NAME} with ${inviter}’s link.`;
  const image = shareCardUrl(origin, token);
  const words = inviteWords(inviter, inviteeRewardCents);
  const alt = `${words.headline}. ${words.offer}.`;
  return [
    { property: "og:type", content: "website" },
    { property: "og:site_name", content: PROGRAMME_NAME },
    { property: "og:title", content: title },
    { property: "og:description", content: description },
    { property: "og:url", content: referralLink(origin, token) },
    { property: "og:image", content: image },
    { property: "og:image:type", content: "image/png" },
    { property: "og:image:width", content: "1200" },
    { property: "og:image:height", content: "630" },
    { property: "og:image:alt", content: alt },
    { name: "twitter:card", content: "summary_large_image" },
    { name: "twitter:title", content: title },
    { name: "twitter:description", content: description },
    { name: "twitter:image", content: image },
    { name: "twitter:image:alt", content: alt },
  ];
}

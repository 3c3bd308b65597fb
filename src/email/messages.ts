// What each message says: a subject, a plain-text part and an HTML part, rendered from the outbox
// row's kind and values when the message is sent (or shown to staff). Every value is escaped in the
// HTML part; links are built here from the origin and a token, never taken whole from a row.
import type { OutboxKind, OutboxStatus } from "../db/schema.js";
import { formatDollars } from "../format.js";
import { html, type SafeHtml, toHtmlString } from "../web/html.js";

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

export interface RenderContext {
  /** Where the links point: PUBLIC_ORIGIN, or the origin of the request that caused the message. */
  origin: string;
  /** One-click unsubscribe for a notification (RFC 8058); none for verification and reset. */
  unsubscribeUrl?: string;
}

/** The kinds a person can turn off, and the users column that holds their choice. */
export const notificationKinds = {
  friend_joined: "notify_friend_joined",
  reward_earned: "notify_rewards",
  referral_approved: "notify_review",
  referral_rejected: "notify_review",
} as const satisfies Partial<Record<OutboxKind, string>>;

export type NotificationKind = keyof typeof notificationKinds;
export type NotificationChoice = (typeof notificationKinds)[NotificationKind];

export function isNotification(kind: OutboxKind): kind is NotificationKind {
  return kind in notificationKinds;
}

/** The words each choice goes by on the dashboard and the unsubscribe page. */
export const notificationChoiceLabels: Record<NotificationChoice, string> = {
  notify_friend_joined: "a friend joined through my link",
  notify_rewards: "I earned a reward",
  notify_review: "a held referral was approved or rejected",
};

type Params = Record<string, string | number>;

function text(params: Params, name: string): string {
  const value = params[name];
  return value === undefined ? "" : String(value);
}

function cents(params: Params, name: string): number {
  const value = Number(params[name]);
  return Number.isFinite(value) ? value : 0;
}

interface Content {
  subject: string;
  /** Paragraphs, as plain text. */
  lines: string[];
  /** A call to action: its words and its address. */
  action?: { label: string; url: string };
}

function contentOf(kind: OutboxKind, params: Params, origin: string): Content {
  const name = text(params, "username");
  switch (kind) {
    case "verify_email":
      return {
        subject: "Confirm your email address",
        lines: [
          `Hello ${name},`,
          "Please confirm that this is your email address. The link works once, for 48 hours.",
          "If you did not add this address, you can ignore this message.",
        ],
        action: {
          label: "Confirm my address",
          url: `${origin}/email/verify/?token=${text(params, "token")}`,
        },
      };
    case "password_reset":
      return {
        subject: "Reset your password",
        lines: [
          `Hello ${name},`,
          "Someone (we hope you) asked to reset the password of your account. The link works once, for one hour.",
          "If it was not you, ignore this message: your password stays as it is.",
        ],
        action: {
          label: "Choose a new password",
          url: `${origin}/password/reset/?token=${text(params, "token")}`,
        },
      };
    case "friend_joined":
      return {
        subject: `${text(params, "friend")} joined through your link`,
        lines: [
          `Hello ${name},`,
          `${text(params, "friend")} just signed up through your referral link.`,
          "Every fifth friend who joins earns you a reward.",
        ],
        action: { label: "See your referrals", url: `${origin}/referrals/` },
      };
    case "reward_earned":
      return {
        subject: `You earned ${formatDollars(cents(params, "amount_cents"))}`,
        lines: [
          `Hello ${name},`,
          `Friends keep joining through your link: you earned ${formatDollars(cents(params, "amount_cents"))} of credit.`,
        ],
        action: { label: "See your balance", url: `${origin}/` },
      };
    case "referral_approved":
      return {
        subject: "Your held credit is approved",
        lines: [
          `Hello ${name},`,
          `A referral held for review was approved: ${formatDollars(cents(params, "amount_cents"))} of credit is now yours to use.`,
        ],
        action: { label: "See your balance", url: `${origin}/` },
      };
    case "referral_rejected":
      return {
        subject: "A held referral was not approved",
        lines: [
          `Hello ${name},`,
          "A referral held for review was not approved, and its credit will not be paid.",
          ...(text(params, "reason") ? [`The reason given: ${text(params, "reason")}`] : []),
        ],
        action: { label: "See your credit history", url: `${origin}/history/` },
      };
    case "webhook_disabled":
      return {
        subject: "A webhook endpoint was turned off",
        lines: [
          `Hello ${name},`,
          `The webhook endpoint ${text(params, "url")} failed every delivery for ${text(params, "hours")} hours, so the service turned it off. Events written meanwhile are kept.`,
          "Fix the receiver, then turn the endpoint on again and send its failed deliveries again.",
        ],
        action: {
          label: "See the endpoint",
          url: `${origin}/admin/webhooks/${text(params, "endpoint_id")}/`,
        },
      };
  }
}

/**
 * Whether staff reading a message at /admin/outbox/ may see its password-reset link. A live link
 * lets whoever holds it set that person's password, so it goes to their inbox alone; staff see it
 * only where they carry the mail themselves: a message kept (no SMTP server) outside production.
 */
export function resetLinkShownToStaff(
  message: { kind: OutboxKind; status: OutboxStatus },
  nodeEnv: string,
): boolean {
  return message.kind !== "password_reset" || (message.status === "kept" && nodeEnv !== "production");
}

/** What staff read instead of a reset link's token when resetLinkShownToStaff says no. */
export const hiddenToken = "(hidden)";

export function renderMessage(kind: OutboxKind, params: Params, context: RenderContext): RenderedMessage {
  const content = contentOf(kind, params, context.origin);
  const footer = context.unsubscribeUrl
    ? `You get this because you have an account and asked for these messages. To stop them: ${context.unsubscribeUrl}`
    : "";
  const plain = [
    ...content.lines,
    ...(content.action ? [`${content.action.label}: ${content.action.url}`] : []),
    ...(footer ? ["--", footer] : []),
  ].join("\n\n");
  const body: SafeHtml = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${content.subject}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #212529; max-width: 36rem; margin: 0 auto; padding: 1rem">
${content.lines.map((line) => html`<p>${line}</p>\n`)}
${
  content.action
    ? html`<p><a href="${content.action.url}" style="display: inline-block; padding: .5rem 1rem; background: #0d6efd; color: #fff; border-radius: .375rem; text-decoration: none">${content.action.label}</a></p>
<p style="font-size: .875rem; color: #495057">Or open this address: ${content.action.url}</p>`
    : ""
}
${
  context.unsubscribeUrl
    ? html`<hr><p style="font-size: .875rem; color: #495057">You get this because you asked for these messages. <a href="${context.unsubscribeUrl}">Stop these emails</a>.</p>`
    : ""
}
</body></html>`;
  return { subject: content.subject, text: plain, html: toHtmlString(body) };
}

// Where a referral link can be shared, and the address of each service's own share page carrying the
// person's message. Pure, and free of Node: the dashboard renders the links with it (so they work
// without JavaScript) and client/share.ts rebuilds them with it as the person edits the message.

export type ShareService = "email" | "sms" | "whatsapp" | "x" | "linkedin" | "facebook";

export interface ShareTarget {
  service: ShareService;
  /** The visible label. */
  name: string;
  /** Read before the name by screen readers, so each link says where it shares: "Share on X". */
  lead: "Share by" | "Share on";
  /** A web page (opened in a new tab), rather than an app's own scheme (mailto:, sms:). */
  web: boolean;
}

export const SHARE_TARGETS: readonly ShareTarget[] = [
  { service: "email", name: "Email", lead: "Share by", web: false },
  { service: "sms", name: "SMS", lead: "Share by", web: false },
  { service: "whatsapp", name: "WhatsApp", lead: "Share on", web: true },
  { service: "x", name: "X", lead: "Share on", web: true },
  { service: "linkedin", name: "LinkedIn", lead: "Share on", web: true },
  { service: "facebook", name: "Facebook", lead: "Share on", web: true },
];

export interface ShareContent {
  /** The person's message; the link is added to it when they took it out. */
  message: string;
  link: string;
  /** The email's subject and the native share sheet's title. */
  subject: string;
}

/** The message as sent where the text is all there is (email, SMS, WhatsApp): always with the link. */
export function messageWithLink(message: string, link: string): string {
  const text = message.trim();
  if (text.includes(link)) return text;
  return text === "" ? link : `${text} ${link}`;
}

/** The message without the link, for services that take the link apart (X, the native share sheet). */
export function messageWithoutLink(message: string, link: string): string {
  return message
    .split(link)
    .join(" ")
    .replace(/[ \t]+/g, " ")
    .replace(/ *\n */g, "\n")
    .trim();
}

const enc = encodeURIComponent;

/**
 * The service's official share address. LinkedIn's and Facebook's take only the link: they show the
 * preview the sign-up page describes (its Open Graph tags and card image), never a message of ours.
 */
export function shareHref(service: ShareService, content: ShareContent): string {
  const { link, subject } = content;
  switch (service) {
    case "email":
      return `mailto:?subject=${enc(subject)}&body=${enc(messageWithLink(content.message, link))}`;
    case "sms":
      // "?&body=": the form both iOS and Android read.
      return `sms:?&body=${enc(messageWithLink(content.message, link))}`;
    case "whatsapp":
      return `https://wa.me/?text=${enc(messageWithLink(content.message, link))}`;
    case "x":
      return `https://x.com/intent/post?text=${enc(messageWithoutLink(content.message, link))}&url=${enc(link)}`;
    case "linkedin":
      return `https://www.linkedin.com/sharing/share-offsite/?url=${enc(link)}`;
    case "facebook":
      return `https://www.facebook.com/sharer/sharer.php?u=${enc(link)}`;
  }
}

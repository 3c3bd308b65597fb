// One-click unsubscribe (RFC 8058): a link that names a user and one kind of notification, signed
// with a key the service keeps (service_secrets), so it works without logging in and cannot be made
// up for someone else. It never expires: an old message's link must still stop the messages.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Queryable } from "../db/connection.js";
import { serviceSecret } from "../db/service-secrets.js";
import { type NotificationChoice, notificationChoiceLabels } from "./messages.js";

const choices = Object.keys(notificationChoiceLabels) as NotificationChoice[];

function isChoice(value: string): value is NotificationChoice {
  return (choices as string[]).includes(value);
}

function signature(key: string, userId: number, choice: NotificationChoice): string {
  return createHmac("sha256", key).update(`unsubscribe:${userId}:${choice}`).digest("base64url").slice(0, 32);
}

export interface UnsubscribeSigner {
  /** The token for a link: `<user id>.<choice>.<signature>`. */
  token(userId: number, choice: NotificationChoice): Promise<string>;
  /** What a token names, when its signature is right. */
  verify(token: string): Promise<{ userId: number; choice: NotificationChoice } | null>;
}

export function unsubscribeSigner(db: Queryable): UnsubscribeSigner {
  let key: Promise<string> | undefined;
  const keyOf = () => {
    key ??= serviceSecret(db, "unsubscribe_hmac_key").catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  };
  return {
    async token(userId, choice) {
      return `${userId}.${choice}.${signature(await keyOf(), userId, choice)}`;
    },
    async verify(token) {
      const match = /^([1-9][0-9]{0,15})\.([a-z_]{1,40})\.([A-Za-z0-9_-]{32})$/.exec(token);
      if (!match) return null;
      const [, id, choice, given] = match as unknown as [string, string, string, string];
      if (!isChoice(choice)) return null;
      const userId = Number(id);
      const expected = Buffer.from(signature(await keyOf(), userId, choice));
      return timingSafeEqual(expected, Buffer.from(given)) ? { userId, choice } : null;
    },
  };
}

export function unsubscribeUrl(origin: string, token: string): string {
  return `${origin}/email/unsubscribe/?token=${encodeURIComponent(token)}`;
}

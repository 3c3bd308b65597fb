// Sending one rendered message over SMTP with nodemailer: text and HTML parts, and for a
// notification the one-click unsubscribe headers of RFC 8058.
import nodemailer from "nodemailer";
import type { RenderedMessage } from "./messages.js";

export interface OutgoingMail {
  to: string;
  message: RenderedMessage;
  unsubscribeUrl?: string | undefined;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl, {
    // A server that stalls must not hold a worker for ever: the job's lease is the outer limit.
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from,
        to: mail.to,
        subject: mail.message.subject,
        text: mail.message.text,
        html: mail.message.html,
        headers: mail.unsubscribeUrl
          ? {
              "List-Unsubscribe": `<${mail.unsubscribeUrl}>`,
              "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
          : {},
      });
    },
    async close() {
      transport.close();
    },
  };
}

// What every staff page shares: the admin tabs inside the site's frame, and links to users.
import type { SessionUser } from "../../../accounts/sessions.js";
import { html, type SafeHtml } from "../../html.js";
import { layout } from "../layout.js";

type Section = "home" | "review" | "users" | "stats" | "outbox" | "webhooks" | "api-keys";

/** What every staff page is drawn with: who is looking, their form token, and the referrals waiting. */
export interface AdminFrame {
  staff: SessionUser;
  csrfToken: string;
  /** Referrals held for review, shown beside the review queue's tab. */
  heldCount: number;
}

/** "3 held" as a badge; nothing when none is held. */
export function heldBadge(heldCount: number): SafeHtml | null {
  if (heldCount <= 0) return null;
  return html` <span class="badge rounded-pill text-bg-warning">${heldCount.toLocaleString("en-US")}<span class="visually-hidden"> held</span></span>`;
}

export function adminLayout(frame: AdminFrame, title: string, section: Section, body: SafeHtml): SafeHtml {
  const tab = (name: Section, href: string, label: SafeHtml | string) =>
    html`<li class="nav-item"><a class="nav-link${section === name ? " active" : ""}" href="${href}"${section === name ? html` aria-current="page"` : null}>${label}</a></li>`;
  return layout(
    { title: `${title} · Admin`, csrfToken: frame.csrfToken, username: frame.staff.username, isStaff: true },
    html`<div class="admin-area">
<ul class="nav nav-tabs admin-tabs mb-4" aria-label="Admin sections">
  ${tab("home", "/admin/", "Audit log")}
  ${tab("review", "/admin/review/", html`Review queue${heldBadge(frame.heldCount)}`)}
  ${tab("users", "/admin/users/", "Users")}
  ${tab("stats", "/admin/stats/", "Programme analytics")}
  ${tab("outbox", "/admin/outbox/", "Outbox")}
  ${tab("api-keys", "/admin/api-keys/", "API keys")}
  ${tab("webhooks", "/admin/webhooks/", "Webhooks")}
  <li class="nav-item dropdown-center ms-auto d-flex align-items-center gap-2 small">
    <span class="text-body-secondary">Export CSV:</span>
    <a href="/admin/export/users.csv" download>users</a>
    <a href="/admin/export/ledger.csv" download>ledger</a>
  </li>
</ul>
${body}
</div>`,
  );
}

export function userLink(id: number | null, username: string | null): SafeHtml | string {
  if (id === null || username === null) return "—";
  return html`<a href="/admin/users/${id}/">${username}</a>`;
}

export function statusBadges(user: {
  isActive: boolean;
  isStaff: boolean;
  deletedAt?: Date | null;
}): SafeHtml {
  if (user.deletedAt) return html` <span class="badge text-bg-dark">deleted</span>`;
  return html`${user.isStaff ? html` <span class="badge text-bg-info">staff</span>` : null}${user.isActive ? null : html` <span class="badge text-bg-secondary">deactivated</span>`}`;
}

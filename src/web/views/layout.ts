// The page frame every HTML page shares: Bootstrap 5 served locally, no inline script.
import { html, type SafeHtml } from "../html.js";

export interface PageContext {
  title: string;
  csrfToken: string;
  /** The logged-in user's name, for the navigation bar. */
  username?: string | null;
  isStaff?: boolean;
  scripts?: string[];
  /** Tags for link previews (Open Graph, Twitter cards), escaped like everything else. */
  meta?: MetaTag[];
}

/** A <meta> tag of a page's head: Open Graph's are named by `property`, Twitter's by `name`. */
export type MetaTag = { property: string; content: string } | { name: string; content: string };

/** One tag on a line of its own. */
function metaTag(tag: MetaTag): SafeHtml {
  return "property" in tag
    ? html`<meta property="${tag.property}" content="${tag.content}">\n`
    : html`<meta name="${tag.name}" content="${tag.content}">\n`;
}

export function layout(page: PageContext, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Referral programme</title>
<link rel="stylesheet" href="/static/bootstrap/css/bootstrap.min.css">
<link rel="stylesheet" href="/static/app/app.css">
<link rel="icon" href="/static/app/favicon.svg" type="image/svg+xml">
${(page.meta ?? []).map(metaTag)}${(page.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body class="bg-body-tertiary">
<a class="visually-hidden-focusable" href="#main">Skip to main content</a>
<nav class="navbar navbar-expand bg-white border-bottom mb-4" aria-label="Main">
  <div class="container flex-wrap">
    <a class="navbar-brand fw-semibold" href="/">Referral programme</a>
    <ul class="navbar-nav ms-auto flex-wrap column-gap-2 text-nowrap">
      ${
        page.username
          ? html`<li class="nav-item"><a class="nav-link" href="/">Dashboard</a></li>
      <li class="nav-item"><a class="nav-link" href="/referrals/">Referrals</a></li>
      <li class="nav-item"><a class="nav-link" href="/history/">Credit history</a></li>
      ${page.isStaff ? html`<li class="nav-item"><a class="nav-link" href="/admin/">Admin</a></li>` : null}
      <li class="nav-item d-flex align-items-center">
        <span class="navbar-text text-body fw-semibold text-truncate nav-username" id="nav-username"><span class="visually-hidden">Logged in as </span>${page.username}</span>
        <form method="post" action="/logout/" class="d-inline">
          <input type="hidden" name="csrfmiddlewaretoken" value="${page.csrfToken}">
          <button type="submit" class="btn btn-link nav-link">Log out</button>
        </form>
      </li>`
          : html`<li class="nav-item"><a class="nav-link" href="/login/">Log in</a></li>
      <li class="nav-item"><a class="nav-link" href="/signup/">Sign up</a></li>`
      }
    </ul>
  </div>
</nav>
<main id="main" class="container pb-5">
${body}
</main>
</body>
</html>`;
}

export interface FieldSpec {
  name: string;
  label: string;
  type: "text" | "password" | "email";
  value?: string;
  autocomplete: string;
  errors?: string[] | undefined;
  help?: SafeHtml | string;
  autofocus?: boolean;
  maxLength?: number;
  /** False for an optional field (default: required). */
  required?: boolean;
  /** Shown, not editable (the account a new password is for). */
  readOnly?: boolean;
}

/** A labelled input with its errors beside it, linked for screen readers. */
export function formField(field: FieldSpec): SafeHtml {
  const errors = field.errors ?? [];
  const id = `id_${field.name}`;
  const describedBy = [errors.length ? `${id}_errors` : null, field.help ? `${id}_help` : null]
    .filter(Boolean)
    .join(" ");
  return html`<div class="mb-3">
  <label for="${id}" class="form-label">${field.label}</label>
  <input type="${field.type}" name="${field.name}" id="${id}" class="form-control${errors.length ? " is-invalid" : ""}"
    autocomplete="${field.autocomplete}"${field.required === false ? null : html` required`}${field.readOnly ? html` readonly` : null}${field.autofocus ? html` autofocus` : null}
    ${field.maxLength ? html`maxlength="${field.maxLength}"` : null}
    ${field.value !== undefined && field.type !== "password" ? html`value="${field.value}"` : null}
    ${describedBy ? html`aria-describedby="${describedBy}"` : null}${errors.length ? html` aria-invalid="true"` : null}>
  ${errors.length ? html`<div class="invalid-feedback" id="${id}_errors">${errors.map((e) => html`<div>${e}</div>`)}</div>` : null}
  ${field.help ? html`<div class="form-text" id="${id}_help">${field.help}</div>` : null}
</div>`;
}

export function formErrors(errors: string[] | undefined): SafeHtml | null {
  if (!errors || errors.length === 0) return null;
  return html`<div class="alert alert-danger" role="alert">${errors.map((e) => html`<div>${e}</div>`)}</div>`;
}

/**
 * Links between the pages of a list: back to its first page (unless on it), to the page before
 * (newer rows, when the list can page back) and on to the next.
 */
export function pageLinks(links: {
  first: { href: string; label: string } | null;
  previous?: { href: string | null; label: string };
  next: { href: string | null; label: string };
}): SafeHtml | null {
  // A list that fits one page has no links, and no empty navigation either.
  if (!links.first && !links.previous?.href && !links.next.href) return null;
  return html`<nav class="page-links d-flex flex-wrap gap-2 mt-3 mb-4" aria-label="Pages">
  ${links.first ? html`<a class="btn btn-outline-secondary btn-sm" href="${links.first.href}">${links.first.label}</a>` : null}
  ${links.previous?.href ? html`<a class="btn btn-outline-primary btn-sm" href="${links.previous.href}" rel="prev">${links.previous.label}</a>` : null}
  ${links.next.href ? html`<a class="btn btn-outline-primary btn-sm" href="${links.next.href}" rel="next">${links.next.label}</a>` : null}
</nav>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrfmiddlewaretoken" value="${token}">`;
}

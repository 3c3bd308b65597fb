// /admin/users/: the searchable, sortable list of users.
import type { UserListQuery, UserListRow, UserSort } from "../../../admin/directory.js";
import { formatDollars, utcMinute } from "../../../format.js";
import { html, type SafeHtml } from "../../html.js";
import { pageLinks } from "../layout.js";
import { type AdminFrame, adminLayout, statusBadges, userLink } from "./layout.js";

const sortLabels: Record<UserSort, string> = {
  username: "Username",
  joined: "Joined",
  balance: "Balance",
  referred: "Referred",
};

/** The first page of the list for a query. */
function listUrl(query: UserListQuery, changes: Partial<UserListQuery> = {}): string {
  const q = { ...query, ...changes };
  const params = new URLSearchParams();
  if (q.search) params.set("q", q.search);
  params.set("sort", q.sort);
  params.set("dir", q.direction);
  return `/admin/users/?${params}`;
}

function sortHeader(query: UserListQuery, sort: UserSort, numeric: boolean): SafeHtml {
  const active = query.sort === sort;
  const nextDirection = active
    ? query.direction === "asc"
      ? "desc"
      : "asc"
    : sort === "username"
      ? "asc"
      : "desc";
  const arrow = active ? (query.direction === "asc" ? " ▲" : " ▼") : "";
  const ariaSort = active ? (query.direction === "asc" ? "ascending" : "descending") : null;
  return html`<th scope="col"${numeric ? html` class="text-end"` : null}${ariaSort ? html` aria-sort="${ariaSort}"` : null}><a class="link-body-emphasis text-decoration-none" href="${listUrl(query, { sort, direction: nextDirection })}">${sortLabels[sort]}${arrow}</a></th>`;
}

export function usersPage(
  model: AdminFrame & {
    query: UserListQuery;
    rows: UserListRow[];
    nextPage: string | null;
    firstPage: boolean;
  },
): SafeHtml {
  const { query } = model;
  return adminLayout(
    model,
    "Users",
    "users",
    html`<h1 class="h3 mb-3">Users</h1>
<form method="get" action="/admin/users/" class="row g-2 align-items-end mb-3" role="search">
  <div class="col-12 col-sm-6 col-md-4">
    <label for="q" class="form-label">Username starts with, or email address</label>
    <input type="search" class="form-control" id="q" name="q" value="${query.search}" maxlength="150" autocomplete="off">
  </div>
  <input type="hidden" name="sort" value="${query.sort}">
  <input type="hidden" name="dir" value="${query.direction}">
  <div class="col-auto"><button type="submit" class="btn btn-primary">Search</button></div>
  ${query.search ? html`<div class="col-auto"><a class="btn btn-outline-secondary" href="/admin/users/">Clear</a></div>` : null}
</form>
${
  model.rows.length === 0
    ? html`<p class="text-body-secondary">No users${query.search ? html` whose username starts with “${query.search}”${query.search.includes("@") ? " or whose address it is" : ""}` : null}.</p>`
    : html`<div class="table-responsive"><table class="table table-hover align-middle" id="users">
<thead><tr>${sortHeader(query, "username", false)}${sortHeader(query, "balance", true)}${sortHeader(query, "referred", true)}${sortHeader(query, "joined", false)}<th scope="col">Invited by</th></tr></thead>
<tbody>${model.rows.map(
        (u) => html`<tr>
<td><a href="/admin/users/${u.id}/">${u.username}</a>${statusBadges(u)}</td>
<td class="text-end font-monospace">${formatDollars(u.balanceCents)}</td>
<td class="text-end">${u.referredCount}</td>
<td class="text-nowrap">${utcMinute(u.createdAt)}</td>
<td>${userLink(u.inviterId, u.inviterUsername)}</td></tr>`,
      )}</tbody></table></div>`
}
${pageLinks({
  first: model.firstPage ? null : { href: listUrl(query), label: "First page" },
  next: { href: model.nextPage, label: "Next page" },
})}`,
  );
}

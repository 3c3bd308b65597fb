// Sharing a referral link: the dashboard's share links (each service's own share address with the
// message and the link encoded), the sign-up page's preview tags for a valid link, and the preview
// picture GET /signup/card.png: a 1200×630 PNG, cached (Cache-Control, ETag, 304) and cookie-free.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { crc32, inflateSync } from "node:zlib";
import Fastify from "fastify";
import type { RouteDeps } from "../../src/web/app-deps.js";
import { html, toHtmlString } from "../../src/web/html.js";
import { etagMatches, shareImageRoutes } from "../../src/web/routes/share-image.js";
import { createShareCards, renderPng, shareCardSvg, svgText } from "../../src/web/share-card.js";
import { messageWithLink, messageWithoutLink, SHARE_TARGETS, shareHref } from "../../src/web/share-links.js";
import { layout } from "../../src/web/views/layout.js";
import { SHARE_SUBJECT, shareMessage } from "../../src/web/views/share.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

let t: TestApp;
let link = "";
let token = "";
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

before(async () => {
  t = await createTestApp();
  const alice = new Client(t.app);
  assert.equal((await alice.signUp("alice")).statusCode, 200);
  link = (await alice.dashboard()).referral_link;
  token = tokenOf(link);
});
after(async () => t.close());

/** The page's Open Graph and Twitter <meta> tags, unescaped. */
function metaTags(page: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const m of page.matchAll(/<meta (?:property|name)="((?:og|twitter):[^"]+)" content="([^"]*)">/g)) {
    tags.set(unescapeHtml(m[1] as string), unescapeHtml(m[2] as string));
  }
  return tags;
}

function unescapeHtml(value: string): string {
  return value
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&#96;", "`")
    .replaceAll("&amp;", "&");
}

/** The IHDR chunk's width and height (bytes 16–23 of a PNG), once every chunk's CRC checks out. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, "starts with the PNG signature");
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  const types: string[] = [];
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    assert.equal(
      png.readUInt32BE(at + 8 + length),
      crc32(png.subarray(at + 4, at + 8 + length)),
      `${type} CRC`,
    );
    if (type === "IDAT") idat.push(png.subarray(at + 8, at + 8 + length));
    types.push(type);
    at += 12 + length;
  }
  assert.equal(types[types.length - 1], "IEND");
  const size = { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
  // 8-bit RGBA: each row is a filter byte and four bytes a pixel.
  assert.equal(png[24], 8);
  assert.equal(png[25], 6);
  assert.equal(
    inflateSync(Buffer.concat(idat)).length,
    (size.width * 4 + 1) * size.height,
    "every row is there",
  );
  return size;
}

test("the sign-up page of a valid link carries Open Graph and Twitter card tags", async () => {
  const response = await new Client(t.app, "html").get(`/signup/?ref=${token}`);
  assert.equal(response.statusCode, 200);
  const tags = metaTags(response.body);
  const origin = link.slice(0, link.indexOf("/signup/"));
  const image = `${origin}/signup/card.png?ref=${token}`;
  assert.equal(tags.get("og:title"), "alice invited you — get $10");
  assert.equal(tags.get("og:type"), "website");
  assert.equal(tags.get("og:url"), link, "the same link the dashboard shows");
  assert.equal(tags.get("og:image"), image);
  assert.equal(tags.get("og:image:width"), "1200");
  assert.equal(tags.get("og:image:height"), "630");
  assert.match(tags.get("og:description") ?? "", /alice’s link and get \$10/);
  assert.equal(tags.get("og:image:alt"), "alice invited you. Get $10 when you join.");
  assert.equal(tags.get("twitter:card"), "summary_large_image");
  assert.equal(tags.get("twitter:title"), "alice invited you — get $10");
  assert.equal(tags.get("twitter:image"), image);
});

test("an invalid, malformed or missing link has no preview tags", async () => {
  for (const url of ["/signup/", "/signup/?ref=AAAAAAAAAAAAAAAAAAAAAA", "/signup/?ref=nope"]) {
    const response = await new Client(t.app, "html").get(url);
    assert.equal(response.statusCode, 200, url);
    assert.equal(metaTags(response.body).size, 0, `${url} has no og:/twitter: tags`);
  }
});

test("the preview's absolute addresses follow PUBLIC_ORIGIN, as the referral link does", async () => {
  const other = await createTestApp({ PUBLIC_ORIGIN: "https://refer.example.com" });
  try {
    const bob = new Client(other.app);
    await bob.signUp("bob.smith+ref@x");
    const bobLink = (await bob.dashboard()).referral_link;
    assert.match(bobLink, /^https:\/\/refer\.example\.com\/signup\/\?ref=/);
    const tags = metaTags((await new Client(other.app, "html").get(`/signup/?ref=${tokenOf(bobLink)}`)).body);
    assert.equal(tags.get("og:url"), bobLink);
    assert.equal(tags.get("og:image"), `https://refer.example.com/signup/card.png?ref=${tokenOf(bobLink)}`);
    assert.equal(tags.get("og:title"), "bob.smith+ref@x invited you — get $10");
  } finally {
    await other.close();
  }
});

test("meta tags are escaped: hostile content cannot leave its attribute", () => {
  const page = toHtmlString(
    layout(
      {
        title: "t",
        csrfToken: "x",
        meta: [
          { property: "og:title", content: `"><script>alert(1)</script>&'` },
          { name: 'twitter:title"', content: "a<b" },
        ],
      },
      html``,
    ),
  );
  assert.ok(!page.includes("<script>alert(1)"), "no script injected");
  assert.ok(
    page.includes(
      '<meta property="og:title" content="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;">',
    ),
    "the content is escaped",
  );
  assert.ok(page.includes('<meta name="twitter:title&quot;" content="a&lt;b">'), "the name is escaped");
});

test("the dashboard's share links carry the encoded message and link, and load nothing from elsewhere", async () => {
  const alice = new Client(t.app, "html");
  await alice.logIn("alice");
  const page = (await alice.get("/")).body;
  const message = shareMessage(1000, link);
  assert.equal(message, `Join me on the Referral programme: sign up with my link and get $10. ${link}`);
  const hrefs = new Map<string, string>();
  for (const m of page.matchAll(
    /<a class="btn btn-outline-primary share-link w-100" data-share="([a-z]+)"\s+href="([^"]+)" rel="noopener"( target="_blank")?>/g,
  )) {
    hrefs.set(m[1] as string, unescapeHtml(m[2] as string));
  }
  const e = encodeURIComponent;
  assert.deepEqual(Object.fromEntries(hrefs), {
    email: `mailto:?subject=${e(SHARE_SUBJECT)}&body=${e(message)}`,
    sms: `sms:?&body=${e(message)}`,
    whatsapp: `https://wa.me/?text=${e(message)}`,
    x: `https://x.com/intent/post?text=${e("Join me on the Referral programme: sign up with my link and get $10.")}&url=${e(link)}`,
    linkedin: `https://www.linkedin.com/sharing/share-offsite/?url=${e(link)}`,
    facebook: `https://www.facebook.com/sharer/sharer.php?u=${e(link)}`,
  });
  // WhatsApp's link decodes back to the message, link included.
  assert.equal(new URL(hrefs.get("whatsapp") as string).searchParams.get("text"), message);
  // Each link says where it shares, for screen readers; web services open in a new tab, noopener.
  for (const target of SHARE_TARGETS) {
    assert.ok(
      page.includes(`<span class="visually-hidden">${target.lead} </span>${target.name}</a>`),
      `${target.service} is named`,
    );
  }
  assert.match(
    page,
    /<textarea id="share-message"[^>]*>Join me on the Referral programme: sign up with my link and get \$10\. /,
  );
  assert.match(page, /<label for="share-message" class="form-label">Your message<\/label>/);
  assert.match(page, /<li class="col-12 col-sm-auto" id="share-native-item" hidden><button type="button"/);
  // The link card comes first on a phone, second (on the right) from the lg breakpoint.
  assert.match(
    page,
    /<div class="col-12 col-lg-7 order-first order-lg-last">\s*<section class="card shadow-sm h-100" aria-labelledby="link-heading"/,
  );
  // Only the service's own scripts, from its own origin; no image from elsewhere (no tracking pixel).
  const scripts = [...page.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1] as string);
  assert.ok(scripts.length > 0, "the page has its scripts");
  for (const attributes of scripts) assert.match(attributes, /^ src="\/static\/client\/[a-z-]+\.js" defer$/);
  for (const m of page.matchAll(/\b(?:src|srcset)="([^"]*)"/g))
    assert.match(m[1] as string, /^\//, "same origin");
  assert.doesNotMatch(page, /<img\b|<iframe\b/);
});

test("share addresses: the link always goes along, X gets it apart, edited text is encoded", () => {
  const l = "https://refer.example.com/signup/?ref=abc";
  assert.equal(messageWithLink("Hi there", l), `Hi there ${l}`, "added when taken out");
  assert.equal(messageWithLink(`Hi ${l}`, l), `Hi ${l}`);
  assert.equal(messageWithLink("  ", l), l);
  assert.equal(messageWithoutLink(`Join: ${l} now`, l), "Join: now");
  const content = { message: `Tom & Jerry say "hi" #1 100% ?a=b+c ${l}`, link: l, subject: "S" };
  const wa = new URL(shareHref("whatsapp", content));
  assert.equal(wa.searchParams.get("text"), content.message);
  const x = new URL(shareHref("x", content));
  assert.equal(x.searchParams.get("text"), `Tom & Jerry say "hi" #1 100% ?a=b+c`);
  assert.equal(x.searchParams.get("url"), l);
  assert.match(
    shareHref("sms", content),
    /^sms:\?&body=Tom%20%26%20Jerry%20say%20%22hi%22%20%231%20100%25%20%3Fa%3Db%2Bc%20/,
  );
  assert.equal(
    shareHref("email", { ...content, message: "a" }),
    `mailto:?subject=S&body=a%20${encodeURIComponent(l)}`,
  );
});

test("the card's SVG escapes every value: hostile text stays text, and resvg still draws it", async () => {
  const short = shareCardSvg({ inviter: `<a href='x'>&"</a>`, inviteeRewardCents: 1000 });
  assert.ok(
    short.includes(">&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt; invited you</text>"),
    "the name is escaped as character data",
  );
  const long = shareCardSvg({
    inviter: `</text><script>alert("x")</script><text a='b'>&amp;`,
    inviteeRewardCents: 1000,
  });
  assert.ok(!long.includes("<script"), "no element injected");
  assert.ok(!long.includes("</text><"), "no text element closed early");
  assert.ok(long.includes(">&lt;/text&gt;&lt;script&gt;alert(&quot;x&quot;)"), "escaped, then cut to fit");
  for (const svg of [short, long]) {
    assert.equal((svg.match(/<text /g) ?? []).length, svg === short ? 4 : 5, "no text element added");
    assert.deepEqual(pngSize(await renderPng(svg)), { width: 1200, height: 630 });
  }

  // Characters XML forbids are dropped, not passed on to make the document invalid.
  assert.equal(svgText("a\u0000b\u001Fc\uD800d\uFFFEe\u0009"), "abcde\u0009");
  assert.equal(svgText("😀"), "😀", "a well-formed pair stays");
});

test("the card says what it can draw: long names are cut, names without glyphs become 'A friend'", () => {
  assert.match(shareCardSvg({ inviter: "alice", inviteeRewardCents: 1000 }), />alice invited you</);
  assert.match(shareCardSvg({ inviter: "alice", inviteeRewardCents: 1000 }), />Get \$10 when you join</);
  assert.match(shareCardSvg({ inviter: "alice", inviteeRewardCents: 1050 }), />Get \$10\.50 when you join</);
  assert.match(shareCardSvg({ inviter: "alice", inviteeRewardCents: 0 }), />Join the Referral programme</);
  assert.match(shareCardSvg({ inviter: "日本語", inviteeRewardCents: 1000 }), />A friend invited you</);
  assert.match(shareCardSvg({ inviter: null, inviteeRewardCents: 1000 }), />You’re invited</);
  const long = shareCardSvg({ inviter: "W".repeat(150), inviteeRewardCents: 1000 });
  assert.match(long, />W+…<\/text>/);
  assert.match(long, />invited you</);
  assert.ok(!long.includes("W".repeat(40)), "cut to the card's width");
});

test("GET /signup/card.png: a 1200×630 PNG, public for an hour, with an ETag, no cookie", async () => {
  const response = await t.app.inject({ method: "GET", url: `/signup/card.png?ref=${token}` });
  assert.equal(response.statusCode, 200);
  assert.equal(response.headers["content-type"], "image/png");
  assert.equal(response.headers["cache-control"], "public, max-age=3600");
  assert.equal(response.headers["x-content-type-options"], "nosniff");
  assert.equal(response.headers["cross-origin-resource-policy"], "cross-origin");
  assert.equal(response.headers["set-cookie"], undefined, "a shared cache keeps no cookie");
  const etag = response.headers.etag as string;
  assert.match(etag, /^"[A-Za-z0-9_-]{27}"$/);
  const png = response.rawPayload;
  assert.deepEqual(pngSize(png), { width: 1200, height: 630 });
  assert.equal(response.headers["content-length"], String(png.length));

  // The same request again: the same bytes. With its ETag: 304 and nothing sent.
  const again = await t.app.inject({ method: "GET", url: `/signup/card.png?ref=${token}` });
  assert.deepEqual(again.rawPayload, png);
  assert.equal(again.headers.etag, etag);
  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
    const revalidated = await t.app.inject({
      method: "GET",
      url: `/signup/card.png?ref=${token}`,
      headers: { "if-none-match": ifNoneMatch },
    });
    assert.equal(revalidated.statusCode, 304, ifNoneMatch);
    assert.equal(revalidated.rawPayload.length, 0);
    assert.equal(revalidated.headers.etag, etag);
    assert.equal(revalidated.headers["cache-control"], "public, max-age=3600");
  }
  const stale = await t.app.inject({
    method: "GET",
    url: `/signup/card.png?ref=${token}`,
    headers: { "if-none-match": '"something-else"' },
  });
  assert.equal(stale.statusCode, 200);

  const head = await t.app.inject({ method: "HEAD", url: `/signup/card.png?ref=${token}` });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers["content-type"], "image/png");
});

test("an unknown, malformed or missing token gets the programme's own card (200), not alice's", async () => {
  const alices = (await t.app.inject({ method: "GET", url: `/signup/card.png?ref=${token}` })).headers.etag;
  const etags = new Set<string>();
  for (const url of [
    "/signup/card.png?ref=AAAAAAAAAAAAAAAAAAAAAA",
    "/signup/card.png?ref=%FF%FE",
    "/signup/card.png?ref=a&ref=b",
    "/signup/card.png",
  ]) {
    const response = await t.app.inject({ method: "GET", url });
    assert.equal(response.statusCode, 200, url);
    assert.equal(response.headers["content-type"], "image/png", url);
    assert.deepEqual(pngSize(response.rawPayload), { width: 1200, height: 630 });
    etags.add(response.headers.etag as string);
  }
  assert.equal(etags.size, 1, "one generic card");
  assert.ok(!etags.has(alices as string), "not alice's card");
});

test("If-None-Match is read as RFC 9110 says", () => {
  assert.equal(etagMatches(undefined, '"a"'), false);
  assert.equal(etagMatches('"a"', '"a"'), true);
  assert.equal(etagMatches('W/"a"', '"a"'), true);
  assert.equal(etagMatches('"b" , "a"', '"a"'), true);
  assert.equal(etagMatches('"ab"', '"a"'), false);
  assert.equal(etagMatches("*", '"a"'), true);
});

test("the drawn cards: an LRU of a few entries, each picture drawn once even when asked for together", async () => {
  const cards = createShareCards({ maxEntries: 2 });
  const card = (name: string) => ({ inviter: name, inviteeRewardCents: 1000 });
  const [a1, a2, a3] = await Promise.all([cards.png(card("a")), cards.png(card("a")), cards.png(card("a"))]);
  assert.equal(cards.drawn, 1, "three requests at once, one drawing");
  assert.equal(a1, a2);
  assert.equal(a2, a3);
  await cards.png(card("b"));
  await cards.png(card("a")); // a is now the most recent, b the least
  await cards.png(card("c")); // b goes
  assert.equal(cards.size, 2);
  assert.equal(cards.drawn, 3);
  await cards.png(card("a"));
  assert.equal(cards.drawn, 3, "a was kept");
  await cards.png(card("b"));
  assert.equal(cards.drawn, 4, "b was drawn again");
  assert.equal(cards.describe(card("a")).etag, a1?.etag, "the ETag is known without drawing");
  assert.notEqual(cards.describe(card("b")).etag, a1?.etag);
});

test("a flood of names is held to the drawing budget; the programme's card stands in for a minute", async () => {
  let clock = 0;
  const cards = createShareCards({ drawingsPerSecond: 2, now: () => clock });
  const card = (name: string | null) => ({ inviter: name, inviteeRewardCents: 1000 });
  assert.ok(await cards.png(card("a")), "within the budget");
  assert.ok(await cards.png(card("b")), "within the budget");
  assert.equal(await cards.png(card("c")), null, "over the budget");
  assert.ok(await cards.png(card("a")), "a kept card costs nothing");
  assert.ok(await cards.png(card(null)), "the programme's card is always given");
  clock += 500; // half a second: one more drawing
  assert.ok(await cards.png(card("c")), "the budget refills");
  assert.equal(await cards.png(card("d")), null);
  assert.equal(cards.drawn, 4);

  // Through the route: the programme's card, cached for a minute only, with its own ETag.
  const app = Fastify();
  shareImageRoutes(app, { db: t.deps.db, config: t.config } as unknown as RouteDeps, cards);
  try {
    const busy = await app.inject({ method: "GET", url: `/signup/card.png?ref=${token}` });
    assert.equal(busy.statusCode, 200);
    assert.equal(busy.headers["cache-control"], "public, max-age=60");
    assert.equal(busy.headers.etag, cards.describe(card(null)).etag);
    assert.deepEqual(pngSize(busy.rawPayload), { width: 1200, height: 630 });
    clock += 1000;
    const drawnNow = await app.inject({ method: "GET", url: `/signup/card.png?ref=${token}` });
    assert.equal(drawnNow.headers["cache-control"], "public, max-age=3600");
    assert.equal(drawnNow.headers.etag, cards.describe(card("alice")).etag);
  } finally {
    await app.close();
  }
});

// Where a webhook may be sent. A webhook endpoint is an address staff type in, and the service then
// makes requests to it from inside its own network: without these checks it could be pointed at the
// cloud's metadata service (169.254.169.254), at the database, or at anything else listening on a
// private network (server-side request forgery). So an endpoint is refused when its host is, or
// resolves to, a loopback, private, link-local or otherwise internal address, unless the setting
// that lists allowed addresses names it (tests and local development allow 127.0.0.1).
//
// Two moments check it. When staff register an endpoint, `checkWebhookUrl` checks the text and a
// literal IP host (no DNS: a name may resolve differently tomorrow). At every delivery the
// connection resolves the name through `safeLookup`, which refuses it if any address it resolves to
// is internal, and the connection then goes to the very address that was checked, so a name cannot
// pass the check and then resolve elsewhere (DNS rebinding). Node does not call `lookup` for a
// literal IP, so the sender checks those itself, with `checkWebhookUrl`'s rules.
import dns, { type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

export interface TargetPolicy {
  /** Only https:// endpoints (production). */
  requireHttps: boolean;
  /** IPs or CIDRs ("127.0.0.1", "10.0.0.0/8", "fd00::/8") allowed even though they are internal. */
  allowedAddresses: string[];
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

const maxUrlLength = 2000;

// Every address a webhook must not reach, with why. IPv4-mapped, NAT64 and 6to4 IPv6 addresses carry
// an IPv4 address inside, which is checked against the IPv4 list (see embeddedIpv4).
const refusedIpv4: [string, number][] = [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local machine on Linux
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT, shared address space
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local: the cloud metadata services live here
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation (TEST-NET-1)
  ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation (TEST-NET-2)
  ["203.0.113.0", 24], // documentation (TEST-NET-3)
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 (broadcast) with it
];
const refusedIpv6: [string, number][] = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["::", 96], // IPv4-compatible (deprecated), which some stacks still route as IPv4
  ["64:ff9b:1::", 48], // local-use NAT64 (RFC 8215)
  ["100::", 64], // discard-only
  ["2001::", 32], // Teredo: tunnels to an IPv4 address
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation (RFC 9637)
  ["fc00::", 7], // unique local (private)
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
];

function blockListOf(rules: [string, number][], family: "ipv4" | "ipv6"): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of rules) list.addSubnet(network, prefix, family);
  return list;
}

const refusedV4 = blockListOf(refusedIpv4, "ipv4");
const refusedV6 = blockListOf(refusedIpv6, "ipv6");
refusedV4.addAddress("255.255.255.255", "ipv4");

/** Why an entry of the allowed addresses setting is not an IP or a CIDR, or null when it is one. */
export function allowedAddressProblem(entry: string): string | null {
  const [address = "", prefix, ...rest] = entry.trim().split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return `${entry} is not an IP address or a CIDR block.`;
  if (prefix === undefined) return null;
  const bits = /^[0-9]{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) return `${entry} has a prefix length out of range.`;
  return null;
}

/** Each policy's allowed list, built once (every delivery's address is checked against it). */
const allowedLists = new WeakMap<TargetPolicy, BlockList>();

function allowedListOf(policy: TargetPolicy): BlockList {
  const built = allowedLists.get(policy);
  if (built) return built;
  const list = buildAllowedList(policy);
  allowedLists.set(policy, list);
  return list;
}

function buildAllowedList(policy: TargetPolicy): BlockList {
  const list = new BlockList();
  for (const entry of policy.allowedAddresses) {
    const problem = allowedAddressProblem(entry);
    if (problem) throw new Error(`Allowed webhook addresses: ${problem}`);
    const [address = "", prefix] = entry.trim().split("/");
    const family = isIP(address) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

/** The 16 bytes of an IPv6 address (already checked by isIP), zone index removed. */
function ipv6Bytes(text: string): Uint8Array {
  let address = text.split("%")[0] ?? "";
  const bytes = new Uint8Array(16);
  // A trailing dotted IPv4 part (::ffff:1.2.3.4) becomes two hexadecimal groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = (dotted[2] ?? "").split(".").map(Number);
    address = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = address.split("::");
  const groupsOf = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const headGroups = groupsOf(head);
  const tailGroups = tail === undefined ? [] : groupsOf(tail);
  const groups = [
    ...headGroups,
    ...new Array(8 - headGroups.length - tailGroups.length).fill(0),
    ...tailGroups,
  ];
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}

/** The IPv4 address an IPv6 address stands for or carries: IPv4-mapped, NAT64 (64:ff9b::/96), 6to4. */
function embeddedIpv4(bytes: Uint8Array): string | null {
  const v4 = (at: number) => Array.from(bytes.subarray(at, at + 4)).join(".");
  if (startsWith(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) return v4(12);
  if (startsWith(bytes, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return v4(12);
  if (startsWith(bytes, [0x20, 0x02])) return v4(2);
  return null;
}

/** A host as a URL writes it (`[::1]`) without the brackets of an IPv6 literal (`::1`). */
export function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Whether a webhook must not be sent to this IP address: internal, reserved, or not an IP at all.
 * An address in the policy's allowed addresses never is.
 */
export function isRefusedAddress(address: string, policy: TargetPolicy): boolean {
  const text = stripBrackets(address.trim());
  const family = isIP(text);
  if (family === 0) return true;
  const allowed = allowedListOf(policy);
  if (family === 4) return !allowed.check(text, "ipv4") && refusedV4.check(text, "ipv4");
  const bare = text.split("%")[0] ?? "";
  if (allowed.check(bare, "ipv6")) return false;
  const bytes = ipv6Bytes(text);
  const inner = embeddedIpv4(bytes);
  if (inner !== null) {
    if (allowed.check(inner, "ipv4")) return false;
    if (refusedV4.check(inner, "ipv4")) return true;
  }
  return refusedV6.check(bare, "ipv6");
}

// Names that are this machine by definition (RFC 6761), refused at registration like 127.0.0.1.
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * The rules for the address a delivery is about to be sent to, without DNS: an absolute http(s)
 * address (https only when required), no user name or password, not too long, with a host, and
 * when the host is a literal IP, not a refused one. The sender runs these before every connection.
 */
export function checkDeliveryUrl(text: string, policy: TargetPolicy): UrlCheck {
  if (text.length > maxUrlLength) {
    return { ok: false, reason: `The address is too long: at most ${maxUrlLength} characters.` };
  }
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, reason: "Enter a full web address, such as https://example.com/webhooks." };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    const schemes = policy.requireHttps ? "https://" : "https:// or http://";
    return { ok: false, reason: `The address must start with ${schemes}.` };
  }
  if (policy.requireHttps && url.protocol !== "https:") {
    return { ok: false, reason: "The address must use https://, so that deliveries are encrypted." };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      ok: false,
      reason:
        "The address must not contain a user name or password: deliveries are authenticated by their signature.",
    };
  }
  if (url.href.length > maxUrlLength) {
    return { ok: false, reason: `The address is too long: at most ${maxUrlLength} characters.` };
  }
  const host = stripBrackets(url.hostname);
  if (host === "") return { ok: false, reason: "The address must name a host." };
  if (isIP(host) !== 0 && isRefusedAddress(host, policy)) {
    return {
      ok: false,
      reason: `The address points to ${host}, a private, local or reserved network address, which webhooks cannot be sent to.`,
    };
  }
  return { ok: true, url };
}

/**
 * The check of an endpoint's address when staff register it: `checkDeliveryUrl`'s rules, and
 * `localhost` names refused like the loopback address they stand for. Names are not resolved here:
 * every delivery checks what the name resolves to then (`safeLookup`).
 */
export function checkWebhookUrl(text: string, policy: TargetPolicy): UrlCheck {
  const checked = checkDeliveryUrl(text, policy);
  if (checked.ok && isLocalhostName(checked.url.hostname) && isRefusedAddress("127.0.0.1", policy)) {
    return {
      ok: false,
      reason: "The address points to this server itself (localhost), which webhooks cannot be sent to.",
    };
  }
  return checked;
}

/** The error of a connection refused because of where it would go. */
export class WebhookTargetError extends Error {
  readonly code = "EWEBHOOKTARGET";
  constructor(message: string) {
    super(message);
    this.name = "WebhookTargetError";
  }
}

/**
 * A `lookup` for http.request and net.connect: resolves the name like dns.lookup, and fails with a
 * WebhookTargetError if any address it resolves to is refused, so that one safe answer among unsafe
 * ones cannot be used to reach the unsafe ones later. Answers `all: true` callers (Node's
 * happy-eyeballs connection does ask so) with every address, others with the first.
 */
export function safeLookup(policy: TargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    // dns.lookup's own signature also takes a family number instead of options.
    const given: LookupOptions =
      typeof options === "number"
        ? { family: options }
        : typeof options === "object" && options !== null
          ? options
          : {};
    dns.lookup(hostname, { ...given, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, "", 0);
      const refused = addresses.find(({ address }) => isRefusedAddress(address, policy));
      if (refused || addresses.length === 0) {
        const what = refused ? `${refused.address}, a private, local or reserved network address` : "nothing";
        return callback(
          new WebhookTargetError(`${hostname} resolves to ${what}, which webhooks cannot be sent to.`),
          "",
          0,
        );
      }
      if (given.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      return callback(null, first.address, first.family);
    });
  };
}

// What `npm run import:django` makes of each Django user, as pure functions: the name (and the
// rename of a collision), the password hash, the referral token, the money and the progress toward
// the next reward. No database here: the source and the target are read by source.ts and store.ts.
import { readDjangoHash } from "../accounts/django-hashes.js";
import {
  characterCount,
  normalizeUsername,
  USERNAME_MAX_LENGTH,
  usernameKey,
  usernameProblems,
} from "../accounts/username.js";
import { isDjangoReferralToken, newReferralToken } from "../referrals/token.js";

/** The earlier version paid the inviter at every 5th sign-up and then reset people_invited to 0. */
export const DJANGO_REFERRALS_PER_REWARD = 5;

/** One row of auth_user with its profile and referral link (null without a profile or a link). */
export interface DjangoUser {
  id: number;
  username: string;
  password: string;
  isStaff: boolean;
  isActive: boolean;
  /** date_joined, ISO 8601 in UTC with microseconds, as the source query writes it. */
  dateJoined: string;
  /** Whole dollars. */
  balance: number | null;
  peopleInvited: number | null;
  token: string | null;
}

/** A Django user that cannot be carried over as it is: the import stops and lists them. */
export interface Refusal {
  djangoId: number;
  username: string;
  reason: string;
}

/** The problems of one row that no flag gets past: the import refuses it and writes nothing. */
export function rowRefusals(user: DjangoUser): Refusal[] {
  const refusals: Refusal[] = [];
  const refuse = (reason: string) => refusals.push({ djangoId: user.id, username: user.username, reason });
  const hash = readDjangoHash(user.password);
  if (hash.status === "unsupported") {
    refuse(`its password hash is in the "${hash.format}" format, which this service does not verify`);
  } else if (hash.status === "malformed") {
    refuse(`its password hash is a malformed "${hash.format}" hash`);
  }
  if (user.balance !== null && (!Number.isSafeInteger(user.balance) || user.balance < 0)) {
    refuse(`its balance (${user.balance}) is not a whole number of dollars of 0 or more`);
  }
  const invited = user.peopleInvited;
  if (
    invited !== null &&
    !(Number.isInteger(invited) && invited >= 0 && invited < DJANGO_REFERRALS_PER_REWARD)
  ) {
    refuse(`its people_invited (${invited}) is not a progress of 0 to ${DJANGO_REFERRALS_PER_REWARD - 1}`);
  }
  return refusals;
}

/** The name as this service stores it: what its login form makes of it (stripped, NFKC). */
export function importedName(djangoUsername: string): string {
  return normalizeUsername(djangoUsername.trim());
}

/** Several Django users (and perhaps a user here already) whose names are one name to this service. */
export interface Collision {
  /** The name as this service compares it (NFKC, case-folded); "" for names that are empty here. */
  key: string;
  djangoUsers: { djangoId: number; username: string }[];
  /** The user of this service who has the name already, when one does. */
  takenHere: { userId: number; username: string } | null;
}

export interface Rename {
  djangoId: number;
  from: string;
  to: string;
}

export interface NamePlan {
  /** The collisions, by key; each Django user in one but its keeper needs a new name. */
  collisions: Collision[];
  /** The new names, when renaming is allowed (oldest id keeps the name; the others get "-<id>"). */
  renames: Rename[];
  /** Names kept although the sign-up rules would refuse them (a space, a symbol, over 150 characters). */
  keptAgainstRules: { djangoId: number; username: string; problems: string[] }[];
}

/**
 * Who keeps which name. Names equal after NFKC and case folding are one name here: of the Django
 * users sharing one, the oldest (lowest id) keeps it unless a user of this service has it already,
 * and the others are renamed to "<name>-<django id>" (cut to 150 characters; "-2", "-3" … after it
 * in the unlikely case that name is taken too). A name that is empty once stripped becomes
 * "user-<django id>". `takenHere` holds the keys of this service's users among the names involved;
 * the caller asks again with the renames' keys until none is taken (store.ts).
 */
export function planNames(
  candidates: readonly { djangoId: number; username: string }[],
  takenHere: ReadonlyMap<string, { userId: number; username: string }>,
): NamePlan {
  const byKey = new Map<string, { djangoId: number; username: string }[]>();
  const keptAgainstRules: NamePlan["keptAgainstRules"] = [];
  for (const candidate of [...candidates].sort((a, b) => a.djangoId - b.djangoId)) {
    const name = importedName(candidate.username);
    const key = name === "" ? "" : usernameKey(name);
    const group = byKey.get(key);
    if (group) group.push(candidate);
    else byKey.set(key, [candidate]);
    const problems = name === "" ? [] : usernameProblems(name);
    if (problems.length > 0) keptAgainstRules.push({ ...candidate, problems });
  }
  const collisions: Collision[] = [];
  const used = new Set(takenHere.keys());
  const toRename: { djangoId: number; username: string }[] = [];
  for (const [key, group] of byKey) {
    const holder = key === "" ? null : (takenHere.get(key) ?? null);
    const keeps = key !== "" && holder === null;
    if (keeps) used.add(key);
    const renamed = keeps ? group.slice(1) : group;
    if (renamed.length > 0) {
      collisions.push({ key, djangoUsers: group, takenHere: holder });
      toRename.push(...renamed);
    }
  }
  collisions.sort((a, b) => (a.djangoUsers[0]?.djangoId ?? 0) - (b.djangoUsers[0]?.djangoId ?? 0));
  const renames: Rename[] = [];
  for (const user of toRename.sort((a, b) => a.djangoId - b.djangoId)) {
    const base = importedName(user.username) || "user";
    for (let attempt = 1; ; attempt++) {
      const to = withSuffix(base, attempt === 1 ? `-${user.djangoId}` : `-${user.djangoId}-${attempt}`);
      const key = usernameKey(to);
      if (!used.has(key)) {
        used.add(key);
        renames.push({ djangoId: user.djangoId, from: user.username, to });
        break;
      }
    }
  }
  // The renamed are listed with their new names instead.
  const renamedIds = new Set(renames.map((r) => r.djangoId));
  return {
    collisions,
    renames,
    keptAgainstRules: keptAgainstRules.filter((k) => !renamedIds.has(k.djangoId)),
  };
}

/** base + suffix in at most 150 characters: the base is cut (by code points), never the suffix. */
function withSuffix(base: string, suffix: string): string {
  const room = USERNAME_MAX_LENGTH - characterCount(suffix);
  const kept = characterCount(base) > room ? [...base].slice(0, room).join("") : base;
  return kept + suffix;
}

/** Why a Django user gets a new referral link instead of keeping theirs. */
export type NewLinkReason = "no link" | "malformed" | "shared";

/** An account as the import writes it. */
export interface ImportedAccount {
  djangoId: number;
  djangoUsername: string;
  username: string;
  usernameKey: string;
  /** The Django hash, verified at login and then replaced by argon2id; "!…" for none. */
  passwordHash: string;
  referralToken: string;
  balanceCents: number;
  carriedReferrals: number;
  isStaff: boolean;
  isActive: boolean;
  createdAt: string;
}

/**
 * The account a Django user becomes. `rename` is their new name when a collision gave them one;
 * `keepsToken` says whether their link's token is theirs alone (see tokenDecisions).
 */
export function accountOf(
  user: DjangoUser,
  rename: string | undefined,
  keepsToken: boolean,
): ImportedAccount {
  const username = rename ?? importedName(user.username);
  return {
    djangoId: user.id,
    djangoUsername: user.username,
    username,
    usernameKey: usernameKey(username),
    passwordHash: user.password,
    referralToken: keepsToken && user.token !== null ? user.token : newReferralToken(),
    balanceCents: (user.balance ?? 0) * 100,
    carriedReferrals: user.peopleInvited ?? 0,
    isStaff: user.isStaff,
    isActive: user.isActive,
    createdAt: user.dateJoined,
  };
}

/**
 * Which Django links keep working: a token of 32 lowercase hex digits that no one else has (here,
 * or an older Django user: the oldest keeps a token two Django users share). Call in id order.
 */
export class TokenDecisions {
  private readonly seen = new Set<string>();
  readonly newLinks: Record<NewLinkReason, number> = { "no link": 0, malformed: 0, shared: 0 };

  /** Whether the user keeps their token; counts why not. */
  decide(token: string | null, takenHere: ReadonlySet<string>): boolean {
    if (token === null || token === "") {
      this.newLinks["no link"]++;
      return false;
    }
    if (!isDjangoReferralToken(token)) {
      this.newLinks.malformed++;
      return false;
    }
    if (this.seen.has(token) || takenHere.has(token)) {
      this.newLinks.shared++;
      return false;
    }
    this.seen.add(token);
    return true;
  }
}

// Builds the app over a fresh test database, and a small cookie-keeping client for inject().
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { createPasswordHasher, type PasswordHasher } from "../../src/accounts/password-hasher.js";
import { buildApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import type { AppDeps } from "../../src/web/app-deps.js";
import { createTestDatabase, type TestDatabase } from "./database.js";

/**
 * The referral signals that a test's clients, all on one address, would set off by design: the
 * shared address and the per-link and per-address counts. Servers started by tests use it too.
 */
export const oneAddressSignals = {
  REFERRAL_SHARED_ADDRESS_DAYS: "0",
  REFERRAL_LINK_SIGNUPS_PER_HOUR: "0",
  REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "0",
};

export interface TestApp {
  app: FastifyInstance;
  deps: AppDeps;
  database: TestDatabase;
  config: Config;
  close(): Promise<void>;
}

/**
 * argon2id at its smallest cost: the tests exercise the real hashing path without paying OWASP's
 * price per sign-up. test/unit/password-hasher.test.ts covers the production parameters.
 */
export function cheapHasher(): PasswordHasher {
  return createPasswordHasher({ parameters: { memoryCost: 64, timeCost: 1, parallelism: 1 }, threads: 1 });
}

/** The password a `gatedHasher` holds. */
export const SLOW_PASSWORD = "slow horse battery";

export interface GatedHasher {
  hasher: PasswordHasher;
  /** Resolves once a hash of SLOW_PASSWORD has started (and waits). */
  hashing: Promise<void>;
  /** Lets the held hash go on (safe to call again). */
  release(): void;
}

/**
 * A cheap hasher that holds every hash of SLOW_PASSWORD until `release()`: a test can act while a
 * sign-up is between its first statement and its write. Close `hasher` afterwards.
 */
export function gatedHasher(): GatedHasher {
  const inner = cheapHasher();
  let started: () => void = () => {};
  let release: () => void = () => {};
  const hashing = new Promise<void>((resolve) => {
    started = resolve;
  });
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const hasher: PasswordHasher = {
    ...inner,
    async hash(password) {
      if (password === SLOW_PASSWORD) {
        started();
        await released;
      }
      return inner.hash(password);
    },
  };
  return { hasher, hashing, release: () => release() };
}

/**
 * Tests sign many people up from one address (127.0.0.1, the inviter's too) through one link; the
 * throttling and signal tests set their own limits. Self-referral and earlier rejections stay on.
 */
export const generousLimits = {
  SIGNUPS_PER_WINDOW: "100000",
  LOGIN_FAILURES_PER_WINDOW: "100000",
  ...oneAddressSignals,
};

export async function createTestApp(
  env: Record<string, string> = {},
  overrides: Partial<AppDeps> = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  // The webhook worker (and its job queue) only where a test asks for it: WEBHOOKS: "on".
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    WEBHOOKS: "off",
    ...generousLimits,
    ...env,
  });
  const hasher = overrides.hasher ?? cheapHasher();
  const deps: AppDeps = { db: database.handle.db, config, database: database.handle, hasher, ...overrides };
  const app = await buildApp(deps);
  await app.ready();
  return {
    app,
    deps,
    database,
    config,
    async close() {
      await app.close();
      await database.drop();
      await hasher.close();
    },
  };
}

type Headers = Record<string, string>;

/** A client that keeps cookies like a browser and echoes the CSRF token as a script would. */
export class Client {
  readonly cookies = new Map<string, string>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly mode: "json" | "html" = "json",
    /** The client's address, as the server sees it (throttling is per address). */
    private readonly remoteAddress = "127.0.0.1",
  ) {}

  private headers(extra: Headers = {}): Headers {
    const headers: Headers = {};
    if (this.mode === "json") headers.accept = "application/json";
    if (this.cookies.size > 0) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    }
    return { ...headers, ...extra };
  }

  private remember(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of response.cookies as {
      name: string;
      value: string;
      maxAge?: number;
      expires?: Date;
    }[]) {
      const expired =
        cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() < Date.now());
      if (expired || cookie.value === "") this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  get csrfToken(): string | undefined {
    return this.cookies.get("csrftoken");
  }

  async get(url: string, headers: Headers = {}): Promise<LightMyRequestResponse> {
    return this.remember(
      await this.app.inject({
        method: "GET",
        url,
        remoteAddress: this.remoteAddress,
        headers: this.headers(headers),
      }),
    );
  }

  /** POSTs a form-encoded body with the CSRF header, fetching a token first if there is none. */
  post(
    url: string,
    form: Record<string, string> = {},
    headers: Headers = {},
  ): Promise<LightMyRequestResponse> {
    return this.send(url, "application/x-www-form-urlencoded", new URLSearchParams(form).toString(), headers);
  }

  postJson(url: string, body: unknown, headers: Headers = {}): Promise<LightMyRequestResponse> {
    return this.send(url, "application/json", JSON.stringify(body), headers);
  }

  private async send(url: string, contentType: string, payload: string, headers: Headers) {
    if (!this.csrfToken) await this.get("/login/");
    const response = await this.app.inject({
      method: "POST",
      url,
      remoteAddress: this.remoteAddress,
      headers: this.headers({ "content-type": contentType, "x-csrftoken": this.csrfToken ?? "", ...headers }),
      payload,
    });
    return this.remember(response);
  }

  async signUp(username: string, password = "correct horse battery", ref?: string) {
    const url = ref ? `/signup/?ref=${encodeURIComponent(ref)}` : "/signup/";
    return this.post(url, { username, password1: password, password2: password });
  }

  async logIn(username: string, password = "correct horse battery") {
    return this.post("/login/", { username, password });
  }

  async dashboard(): Promise<{
    referral_link: string;
    balance: number;
    balance_cents: number;
    referred_count: number;
  }> {
    const response = await this.get("/", { accept: "application/json" });
    if (response.statusCode !== 200) throw new Error(`dashboard: ${response.statusCode} ${response.body}`);
    return response.json();
  }
}

export function tokenOf(referralLink: string): string {
  return new URL(referralLink).searchParams.get("ref") ?? "";
}

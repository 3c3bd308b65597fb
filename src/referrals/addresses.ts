// Client addresses as the referral signals keep them: an HMAC-SHA256 under a key of the service's
// own, so a copy of the database does not say where anyone was, and a guess cannot be checked
// without the key.
import { createHmac } from "node:crypto";
import type { Queryable } from "../db/connection.js";
import { serviceSecret } from "../db/service-secrets.js";

export interface AddressHasher {
  hash(address: string): Promise<string>;
}

/** Reads (or makes) the key on first use; a failed read is tried again on the next call. */
export function addressHasher(db: Queryable): AddressHasher {
  let key: Promise<string> | null = null;
  return {
    async hash(address) {
      key ??= serviceSecret(db, "address_hmac_key").catch((error: unknown) => {
        key = null;
        throw error;
      });
      return createHmac("sha256", await key)
        .update(address)
        .digest("base64url");
    },
  };
}

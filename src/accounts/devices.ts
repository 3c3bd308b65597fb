// The device cookie: a random id a browser keeps for a year after it logs in or signs up. The
// database keeps only its SHA-256, beside each account the browser has used.
import { createHash, randomBytes } from "node:crypto";

export const DEVICE_COOKIE = "deviceid";
export const DEVICE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600;

const deviceIdPattern = /^[A-Za-z0-9_-]{43}$/;

export interface NewDevice {
  /** The cookie's value. */
  id: string;
  idHash: string;
}

export function hashDeviceId(id: string): string {
  return createHash("sha256").update(`device:${id}`).digest("base64url");
}

function newDevice(): NewDevice {
  const id = randomBytes(32).toString("base64url");
  return { id, idHash: hashDeviceId(id) };
}

/**
 * The device a login or sign-up is remembered under: the browser's own, or a new one whose cookie
 * (`newId`) the browser is to be given.
 */
export function deviceFor(deviceIdHash: string | null): { idHash: string; newId: string | null } {
  if (deviceIdHash !== null) return { idHash: deviceIdHash, newId: null };
  const device = newDevice();
  return { idHash: device.idHash, newId: device.id };
}

/** The stored hash of the browser's device cookie, or null when it has none (or not one of ours). */
export function deviceIdHashOf(cookie: string | undefined): string | null {
  return cookie !== undefined && deviceIdPattern.test(cookie) ? hashDeviceId(cookie) : null;
}

// Errors as values with a kind; web/errors.ts turns each kind into HTTP in one place.

export type FieldErrors = Record<string, string[]>;

/** Bad input, reported per field (`__all__` for the form as a whole), as the earlier version's forms. */
export class ValidationError extends Error {
  constructor(readonly fields: FieldErrors) {
    super("validation failed");
    this.name = "ValidationError";
  }
}

export class Unauthorized extends Error {
  constructor() {
    super("unauthorized");
    this.name = "Unauthorized";
  }
}

export class CsrfFailed extends Error {
  constructor(readonly reason: string) {
    super("csrf_failed");
    this.name = "CsrfFailed";
  }
}

export class Forbidden extends Error {
  constructor() {
    super("forbidden");
    this.name = "Forbidden";
  }
}

/** Too many attempts: try again after `retryAfterSeconds`. */
export class Throttled extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super("too_many_requests");
    this.name = "Throttled";
  }
}

/** Collects messages per field, in the order the rules ran. */
export class FieldErrorList {
  readonly fields: FieldErrors = {};
  add(field: string, message: string): void {
    const list = this.fields[field] ?? [];
    list.push(message);
    this.fields[field] = list;
  }
  has(field: string): boolean {
    return (this.fields[field]?.length ?? 0) > 0;
  }
  get empty(): boolean {
    return Object.keys(this.fields).length === 0;
  }
  throwIfAny(): void {
    if (!this.empty) throw new ValidationError(this.fields);
  }
}

/** A request the service cannot make sense of, such as a malformed cursor: 400 with a code and a message. */
export class BadRequest extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BadRequest";
  }
}

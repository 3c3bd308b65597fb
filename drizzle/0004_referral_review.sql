CREATE TABLE "address_sightings" (
	"address_hash" text NOT NULL,
	"user_id" bigint NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "address_sightings_address_hash_user_id_pk" PRIMARY KEY("address_hash","user_id")
);
--> statement-breakpoint
CREATE TABLE "referrals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"inviter_id" bigint NOT NULL,
	"invitee_id" bigint NOT NULL,
	"status" text NOT NULL,
	"signals" text[] DEFAULT '{}'::text[] NOT NULL,
	"same_address" boolean DEFAULT false NOT NULL,
	"hold_until" timestamp with time zone,
	"capped" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by_id" bigint,
	"reason" text,
	"staff_note" text
);
--> statement-breakpoint
CREATE TABLE "service_secrets" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signal_counters" (
	"bucket" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"hits" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "signal_counters_bucket_window_start_pk" PRIMARY KEY("bucket","window_start")
);
--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "status" text DEFAULT 'posted' NOT NULL;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "capped_cents" bigint;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "pending_cents" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "address_sightings" ADD CONSTRAINT "address_sightings_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_inviter_id_users_id_fk" FOREIGN KEY ("inviter_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_invitee_id_users_id_fk" FOREIGN KEY ("invitee_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_decided_by_id_users_id_fk" FOREIGN KEY ("decided_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "address_sightings_user_idx" ON "address_sightings" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "address_sightings_seen_idx" ON "address_sightings" USING btree ("last_seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "referrals_invitee_uq" ON "referrals" USING btree ("invitee_id");--> statement-breakpoint
CREATE INDEX "referrals_inviter_created_idx" ON "referrals" USING btree ("inviter_id","created_at","id");--> statement-breakpoint
CREATE INDEX "referrals_status_created_idx" ON "referrals" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "referrals_created_at_idx" ON "referrals" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "signal_counters_expires_idx" ON "signal_counters" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "ledger_entries_signup_idx" ON "ledger_entries" USING btree ("signup_user_id");--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_pending_not_negative" CHECK ("users"."pending_cents" >= 0);--> statement-breakpoint
-- Every sign-up through a link before referrals had a status was approved at once.
INSERT INTO "referrals" ("inviter_id", "invitee_id", "status", "created_at", "decided_at")
SELECT "invited_by_id", "id", 'approved', "created_at", "created_at" FROM "users" WHERE "invited_by_id" IS NOT NULL;

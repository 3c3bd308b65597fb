CREATE TABLE "link_open_counts" (
	"inviter_id" bigint NOT NULL,
	"day" text NOT NULL,
	"opens" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "link_open_counts_inviter_id_day_pk" PRIMARY KEY("inviter_id","day")
);
--> statement-breakpoint
CREATE TABLE "programme_settings" (
	"name" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by_id" bigint
);
--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD COLUMN "staff_note" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "link_opens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "announced_entry_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "link_open_counts" ADD CONSTRAINT "link_open_counts_inviter_id_users_id_fk" FOREIGN KEY ("inviter_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "programme_settings" ADD CONSTRAINT "programme_settings_updated_by_id_users_id_fk" FOREIGN KEY ("updated_by_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "link_open_counts_day_idx" ON "link_open_counts" USING btree ("day");--> statement-breakpoint
-- Rewards paid before the dashboard announced them are not news: nothing to announce yet.
UPDATE "users" u SET "announced_entry_id" = l.last FROM (SELECT user_id, max(id) AS last FROM "ledger_entries" GROUP BY user_id) l WHERE l.user_id = u.id;

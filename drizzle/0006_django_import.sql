CREATE TABLE "django_imports" (
	"django_id" integer PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"django_username" text NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "django_imports_user_uq" UNIQUE("user_id")
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "carried_referrals" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "django_imports" ADD CONSTRAINT "django_imports_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_carried_referrals_not_negative" CHECK ("users"."carried_referrals" >= 0);
from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "merchant" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "timezone" VARCHAR(64) NOT NULL,
    "default_language" VARCHAR(8) NOT NULL,
    "background_color" VARCHAR(7) NOT NULL,
    "foreground_color" VARCHAR(7) NOT NULL,
    "accent_color" VARCHAR(7) NOT NULL,
    "logo_png" BYTEA,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS "staff" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "telegram_user_id" BIGINT NOT NULL,
    "display_name" VARCHAR(128) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "removed_at" TIMESTAMPTZ,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_staff_merchan_7c58ae" UNIQUE ("merchant_id", "telegram_user_id")
);
COMMENT ON COLUMN "staff"."role" IS 'one of models.enums.StaffRole';
CREATE TABLE IF NOT EXISTS "staff_invite" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "role" VARCHAR(16) NOT NULL,
    "token" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMPTZ NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "used_by_telegram_id" BIGINT,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
);
COMMENT ON COLUMN "staff_invite"."role" IS 'one of models.enums.StaffRole';
COMMENT ON TABLE "staff_invite" IS 'A single-use, expiring link that makes whoever opens it staff of the merchant.';
CREATE TABLE IF NOT EXISTS "card" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "stamps_needed" SMALLINT NOT NULL,
    "reward_text" VARCHAR(200) NOT NULL,
    "voucher_validity_days" SMALLINT NOT NULL,
    "max_stamps_per_call" SMALLINT NOT NULL,
    "stamp_cooldown_seconds" INT NOT NULL,
    "join_token" VARCHAR(64) NOT NULL UNIQUE,
    "active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
);
COMMENT ON TABLE "card" IS 'A stamp program: collect ``stamps_needed`` stamps, get a voucher for ``reward_text``.';
CREATE TABLE IF NOT EXISTS "customer" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "first_name" VARCHAR(128),
    "last_name" VARCHAR(128),
    "language" VARCHAR(8),
    "email" VARCHAR(254),
    "email_verified" BOOL NOT NULL,
    "birth_day" SMALLINT,
    "birth_month" SMALLINT,
    "birth_year" SMALLINT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "erased_at" TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS "identity" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "platform" VARCHAR(16) NOT NULL,
    "external_id" VARCHAR(64) NOT NULL,
    "username" VARCHAR(64),
    "language_code" VARCHAR(16),
    "reachable" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_identity_platfor_2d1616" UNIQUE ("platform", "external_id")
);
COMMENT ON COLUMN "identity"."platform" IS 'one of models.enums.Platform';
COMMENT ON TABLE "identity" IS 'One messenger account of a customer (Telegram user id, Viber id, WhatsApp number).';
CREATE TABLE IF NOT EXISTS "channel_opt_out" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "channel" VARCHAR(16) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_channel_opt_custome_674aab" UNIQUE ("customer_id", "channel")
);
COMMENT ON COLUMN "channel_opt_out"."channel" IS 'one of models.enums.Channel';
CREATE TABLE IF NOT EXISTS "membership" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "status" VARCHAR(8) NOT NULL,
    "balance" INT NOT NULL,
    "visits" INT NOT NULL,
    "last_visit_at" TIMESTAMPTZ,
    "public_token" VARCHAR(64) NOT NULL UNIQUE,
    "joined_at" TIMESTAMPTZ NOT NULL,
    "left_at" TIMESTAMPTZ,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_membership_custome_149cd4" UNIQUE ("customer_id", "card_id")
);
COMMENT ON COLUMN "membership"."status" IS 'one of models.enums.MembershipStatus';
COMMENT ON TABLE "membership" IS 'A customer''s place on one card. ``balance`` is always the sum of its ledger deltas.';
CREATE TABLE IF NOT EXISTS "campaign" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "audience_filters" JSONB NOT NULL,
    "push_text" VARCHAR(200) NOT NULL,
    "push_text_limit" SMALLINT NOT NULL,
    "voucher_title" VARCHAR(200),
    "voucher_validity_days" SMALLINT,
    "channels" JSONB NOT NULL,
    "delivery_policy" VARCHAR(8) NOT NULL,
    "channel_order" JSONB NOT NULL,
    "message_text" TEXT NOT NULL,
    "photo_file_id" VARCHAR(255),
    "holdout_percent" SMALLINT NOT NULL,
    "scheduled_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ,
    "finished_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_campaign_merchan_92df0c" ON "campaign" ("merchant_id", "status");
COMMENT ON COLUMN "campaign"."status" IS 'one of models.enums.CampaignStatus';
COMMENT ON COLUMN "campaign"."delivery_policy" IS 'one of models.enums.DeliveryPolicy';
CREATE TABLE IF NOT EXISTS "voucher" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "source" VARCHAR(16) NOT NULL,
    "title" VARCHAR(200) NOT NULL,
    "code" VARCHAR(16) NOT NULL,
    "token" VARCHAR(64) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL,
    "issued_at" TIMESTAMPTZ NOT NULL,
    "expires_at" TIMESTAMPTZ,
    "redeemed_at" TIMESTAMPTZ,
    "redeemed_via" VARCHAR(8),
    "expiry_reminded_at" TIMESTAMPTZ,
    "voided_at" TIMESTAMPTZ,
    "void_reason" VARCHAR(200),
    "campaign_id" INT REFERENCES "campaign" ("id") ON DELETE SET NULL,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "membership_id" INT NOT NULL REFERENCES "membership" ("id") ON DELETE CASCADE,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE,
    "redeemed_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_voucher_merchan_3c30c3" UNIQUE ("merchant_id", "code")
);
CREATE INDEX IF NOT EXISTS "idx_voucher_status_306bf5" ON "voucher" ("status", "expires_at");
COMMENT ON COLUMN "voucher"."source" IS 'one of models.enums.VoucherSource';
COMMENT ON COLUMN "voucher"."status" IS 'one of models.enums.VoucherStatus';
COMMENT ON COLUMN "voucher"."redeemed_via" IS 'one of models.enums.RedeemVia';
CREATE TABLE IF NOT EXISTS "stamp_event" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "kind" VARCHAR(8) NOT NULL,
    "delta" INT NOT NULL,
    "balance_after" INT NOT NULL,
    "reason" VARCHAR(200) NOT NULL,
    "idempotency_key" VARCHAR(64),
    "created_at" TIMESTAMPTZ NOT NULL,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "membership_id" INT NOT NULL REFERENCES "membership" ("id") ON DELETE CASCADE,
    "staff_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "voucher_id" INT REFERENCES "voucher" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_stamp_event_members_d2f15b" UNIQUE ("membership_id", "idempotency_key")
);
CREATE INDEX IF NOT EXISTS "idx_stamp_event_card_id_c03dee" ON "stamp_event" ("card_id", "created_at");
COMMENT ON COLUMN "stamp_event"."kind" IS 'one of models.enums.LedgerKind';
COMMENT ON TABLE "stamp_event" IS 'One movement of a stamp balance. Rows are never updated or deleted.';
CREATE TABLE IF NOT EXISTS "delivery" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "channel" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "attempts" SMALLINT NOT NULL,
    "next_attempt_at" TIMESTAMPTZ,
    "lease_expires_at" TIMESTAMPTZ,
    "leased_by" VARCHAR(64),
    "reason" VARCHAR(64),
    "external_id" VARCHAR(255),
    "sent_at" TIMESTAMPTZ,
    "opened_at" TIMESTAMPTZ,
    "clicked_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "campaign_id" INT NOT NULL REFERENCES "campaign" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_delivery_campaig_74a53d" UNIQUE ("campaign_id", "customer_id", "channel")
);
CREATE INDEX IF NOT EXISTS "idx_delivery_status_bb1bd8" ON "delivery" ("status", "next_attempt_at");
COMMENT ON COLUMN "delivery"."channel" IS 'one of models.enums.Channel';
COMMENT ON COLUMN "delivery"."status" IS 'one of models.enums.DeliveryStatus';
COMMENT ON TABLE "delivery" IS 'One message to one person on one channel; unique per (campaign, customer, channel).';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztXWtz2zYW/Ssc7YdNZ9yMLT/T3dkZ2XFSb/3o2Gr6yHRomIQsrPkqCcrRdvPfF+ATJE"
    "GKpCgKYtEvjUlcijwXj4uDg4s/R6atQ8N7ewNdbQ4sPPpO+XNkAROSfxTu7Skj4DjpHXoB"
    "gycjLMyWevKwCzT6tBkwPEgu6dDTXORgZFvkquUbBr1oa6Qgsp7TS76F/vChiu1niOfQJT"
    "c+/04uI0uHX6AX/+m8qDMEDT3zukinvx1cV/HSCa5dWfhDUJD+2pOq2YZvWmlhZ4nntpWU"
    "RuHrP0MLugBD+njs+vT16dtFXxp/UfimaZHwFRkbHc6Ab2Dmc5/U9NpIVW/vpurD5VRVRw"
    "0A0myLgkte1Qu+/pm+wrfjg6PTo7PDk6MzUiR4zeTK6dfwp1NgQsMAntvp6GtwH2AQlggw"
    "TkEN/l+A9WIOXD6ucfkcsuSV88jGOFZBG19IsU3rUx/gmuCLakDrGc/Jnwfj/QooP03uL7"
    "6f3L8hpb6hP2mTBhC2jNvo1ji8R/FO8cXIhP+1rUYYszb94Tz6aXox6gXok6MaOJ8clcJM"
    "b2VRjl5YNYD17IPnRmjzbHtEHVr9gH5WA/OzUsjP8og/Ae3l2bV9S6dQ2m4TxHm2PSL+t4"
    "MP43eHp/3AXtU7x7CflsJ+mod9ZruwLew82z5h/xD8t5OwA02DFm4Oed6uV7iP313un+8k"
    "3Ib9bKsO+fUC1OfIAu6SDzZrlQP6aYmhVwPqKLITJT6pQPX8+i7wrel5fxgRzOdXt5P7X9"
    "/cTH4JoDaX0a3ru9uPcXnH9vCzGzxodP7r9HKSg15zIYVHBbgI/ntyh8YmfPizljkH6JHp"
    "2/gfuxgtkg/U7yxjGVWUCu9Mr24uH6aTmx8zLno/mV7SO+OMd+Krb05yDSR5iPLz1fR7hf"
    "6p/HZ3e5l3Y1Ju+tuIvhPwsa1a9qsKdGa2El+NUftK51mzF2ZSQC/QofkVuLqauZNWDw+D"
    "2YzTLCOzDz/cQwMEwBbrQDTdfIgfsWPu/xpX+PhqWg2YOaq1QFFXsyZCV8GThoqTRqBYE6"
    "ULUm6o8CxsX5tDd02EPoVPGSpIGjAdgJ6ttetR+JghwUS7cntsl3XuxVvm2MxfARaZDOvR"
    "b9NfyvTfHB4x6djLScRk+OiWQfycYScxNMg8B5iq70FXRfrod8kwbpFhLLiDE9Q/l6LMs1"
    "6N+Q603Qj2d+Px4eHpeP/w5Oz46PT0+Gw/wb94q8oR51cfqS8yEWTsHIYoQ55jgKXalPbN"
    "2/U4ke1nBnswrkOQkVIV5G+BJHNtowTlS8s3A6SvyDsBS4MFxGNbkYn2kW1BxZ4p0QAAyU"
    "dFw8B99PaN3XBSxwv5mRLjhJMidYPRguOFc5u8IrDKeJvYKE8kEKtN4R93+j0TCXd315lZ"
    "6vlVrhe5/enm/JKgHoBOCtFpCbdzkdxBeS0fFneQ6eSgaS9aeT1r2YHXd4e+E8nJMSaVXo"
    "4DbG4AVxq95ayGFLitFS8XuLci0EWUP9guJPPUH+CyEDnwZ7assGPHQC6b2ZLLLnhNpm75"
    "CkYwIF8OwwHqYvJwMXl/OfpaTmxufJ4csXhls+WU5FsxZ1ZRWnLV1Hk0UTyCrQG/9eld+M"
    "VBFGvFQNaLgucAKyZ4gZ7yOrfhArqK7UDLUxBWgl+i8RyZVysxsm/zYdwGHi9FQWJN2eW8"
    "ZfvzFmy/hNKQ2qqh2KAb5LdbwTesF5IzlXLohztTCYYq6LXwetZygF7fES/XmqqQsKRNy2"
    "bM5FRUeP8+LdVkaaDpmkLJA1rNTgXz83ZWFeJBkWDaKB4v2A3IBWsG55J52Qyyknnpk3nh"
    "dxIdAFxXRCZY31AX3ELHmIGXvIVy+9P19baYrUB5xaG0YkVWOZelxSXqcFgYmI7iuDYdor"
    "9TSNdmQA0rj4/BDU+1INSh/vgYFvT2lGeIFaBE0illZrukrAuDz8XwC3585FJZm/kVyWiJ"
    "xWjJbW6b3eaWaS1FoB9MYBillbhgPKRo5XB8epLUZvpHVUV+uJlcXxdDQKZ/aVKJc2YDrM"
    "vj/Tp1mZQqrcvBvSzaUd+uLoCBdISXqg6WHI1pdZ0ufUh/dftwX/yaTb0ZNX+HoKURSJsi"
    "XfKI/nA+Fh/mAB+CmW3o9qulepD8FE9/X91Fcx/QZ33ecIXubMr+HxsRRJou4GSt5CrOyl"
    "UcKe2T0j4BIpLhLphJ6lFSjwKyY2uKvljYzSfoenPkrLmH7CZ50IBglzsS5Y7EndiReOF7"
    "2DYDlrXIScf39ip5abaUTG62S6PqXgXrO0OuhxvvdctatZqHCbbs1MNWNwO0QDpjJIGuCX"
    "TzFGdrpzYTGuaOM5tBEyAOCVmObmIwPGjHx3VIG1KqnF8/LtA2AV7qArqIPJQn3aqib4rG"
    "PdI4yZWd5XGekIvndC2iKcueMRyQTKsLdj3ExrQt0mZawZqYSmA5wC4h4CTdq4NrbClhlW"
    "TuX57MJW5oJ4zPGEppvGjS+AKtXIf5RDq0MMJo3VR1V+FzljvY1GsxeraDVdvH6xJ6c2BZ"
    "0Lhz8J0/JGI+t1gkyfSaUJHPRHQKs27rex8+Z1Ctb5NEcdJbcYhiticrJ4oRW2qliPnOoh"
    "vdPY9Mp6GrAE2zfQvTjcdAiRln5c002oWk0AxnCtL3lE/oKfrXz3OAvYnjkA+hbeKbooJ5"
    "Mz/BzbHnkOo4s12TFoBfMHQtYMj0etvmuFmvFBmr1fv1WXuRFaLcPfs/Mi+//S37bKPgeq"
    "Nsc3HGTGQnCCP9oh1Z09UG1mZ4VG33GMerBgRCvdVyQ2I4PLS77zxcCLR58OnFkLCKEM/Y"
    "SUmjlDRKFqyKBYuD4oYb1bNWUtK4WtLISmrWlDSyGp4dA7n2ht9sBRMpj12WvOJJrPLsVo"
    "XOKiyqRrRarVl0I7nV50y9i35OzlC3OkONvcCNIFdPUBlzkadG3PnpRfru248wZcAjAx4Z"
    "8MiARwY81QEPs/7EiXayq1NV52VnytVIeBJD8ndPcQygkdHEUuigQpOmvFUeH5+AQavN46"
    "OCPAUYr2DpBal0Pd+kAw/CnmJAnS4DkJfBwOOlO9nIb6yOw2jaFxmEbTMII10O9jnLjfVi"
    "sNS6x4Nf0p2664ZhaZt9SD5k6+cnGzHSNWs6Y9HfcLwrO+4XyEM8lUZ5fo7EQIKZBzPYlh"
    "EA1GKuUDCWijHRFGOsrx3/yUBa82QVeTuZrmLlehrN79Fq+p0xlLNvUdpXndm3AWetOtHU"
    "THafInefdGbTkFlJLSSrwluWlXyV5Kt2i6+6J93I/dXFdFToGrrAdljHnBdwTbvD9nlc4A"
    "Ja62r0H2iGu0v6oAGhLVO4bFtyzlQrDpmcrXSVZ8CZjgqTgvWU5/YCmjBWg4eJriMS6a1y"
    "b796CnChYgWHtPkOjSd1xQ6IXdIG9RKp+frPLDm/nWXLkQ5Nx8bQ0pbqC1wWqOPPSefKrE"
    "z+LgnlPgnlF/JZbenk2Hbn1vOvg7WPH6LX3zKFHKzANKjZSXkZHfMyI4S9mApmmBcTr6Ll"
    "UzuJLgdd0k17diOCMbXoccmp4WJTS2pxI1nL82NmA6g5psNT7MtDJCXFJyk+IQaDNNhvml"
    "g4ZyfR5aAbnRfeBFjWZEC5crpTF0SHeTQCNWskYa2RBJvlANakTQeZRGKvkAg71yHWOIVP"
    "stJdsNKFDrcDTAd+piE7yJQcZ8jpczvAtT5jvaPIZkcaoY6KjLHncN+MW8qJb6YWdL1RjD"
    "1zIdioXmSZU9krcwC85Jn7FS7bvsvTydYULifWO8c1R+3jIfmC7e8gwwjz8hOUM0uJgcjo"
    "i8TiNU21sVaGDbHx3UD1bSpylerW+mzoDm4wQZ7nw9jrnfTVrXeXdF/Zw49rQU5nDCU3LT"
    "Q3zYSlDb2ctZQiY5G97EIdQrNVY86ZSj/vhJ8XiKPrqDeQ5p8h8EIudyS9D97/U/jy2z4J"
    "hvaRS9WFJv3wVqnTuU+QrVDkVriwUTtnZwylj0X3sdpck5QzE7hvFYrTiI6zbCqiyFjJ9V"
    "POVimpTJHKlJ1CVx4nvil5bRT1Py2bgVs0lB2tPK29STzYzWntUqKyUYmKlFb1Iq1Kj21f"
    "u+7WPgFesK63fvXNhPc1BEHMUNUBwgMXWxXHdaFkQUn95qWTZup+RSZptlSnyqCCCogd7q"
    "N1SqkB6lUD1PSkl7VOeRFtxMqfKV+HoSGlKs6ULzA0O7h2r7tghkfNIOen6I46EpHW7oGv"
    "I0g3lc6QgbkZG/79cHfLr/s82zwZjTSs/E8xkLexecfonzPf0ijuypNPXgRZ3lv6s/9q6L"
    "Iu2GmKVYaYjqF/czP5Je+Vi+u78zzjTB9wnnOR43tzFcMvnElgVdI8xkhua61DHieQqQYy"
    "EQft6nPAOeb9EUjjDSf87OIs8Fg73ljaWTCUqyG1KnSM2wIYSEd4qepgyengq6t16UMGxN"
    "51ctJ9eP5GowGUtRFj4KS/N5iBMzr7eKk6toG0kjwFq4NOzmN6HFBhfOryutFnfILzj8lX"
    "bFnzkpzQ5Oq8zVcrm01qKNtO522HHvRMz9Xkx51TcrVsCS1rN4DQs0qNcvnLtBr6RIxyfX"
    "f7MS6e90cuDp3bmBJeBmx4um/BcIBx0vFxnTjp+Lg8TqL3soDPbUO3faw60NUgb62tOkLi"
    "mA8m0X8XkZFH4kfdN1oJ3fK2UusmstaNBFBuuzRFWUvpZZG9PEMW8uat3JwzlX4W2c8y6V"
    "j56DjcYySiVLotvJ61lF4Xxeucxl5I2C31vZ0rpqM+sKlMsmA3IJ5VynuFRFbqT6X+VGRY"
    "G+lP0/6zA2AHLt0rjDWNlXvbO/JjRyDnLUghuCZK8VLOgNr8Rk9GSfDiaEBZLMs1oDpbqt"
    "6RKOFCiILt4NRrhzSN4ADs8AzscAXrH0roFnpXeRPrTPeSo7P34oLflByR0v1v8A/YZhSw"
    "mcO2Q8vKdHYWVcQAjKHp4OY57c7R819F0vpuPD48PB3vH56cHR+dnh6f7SexXPFWVVB3fv"
    "WRxnV77FRytfA19mXBBfUWyRlzkaWwfF1m+u7bF2TuoEDWgZZOIevAFXFvLJRENuy8Giun"
    "WDu5IMgAmh8SCrhW84wcc7mQIA63WKSUDQg8qLZPIMazlx4X3uP8OXi5fCVjNDzpSvd5MH"
    "s/6eovhi8ZZ6BrAaOhDCtnNjykNyLC8qDVJhhgzOSQIPKQYJNZQqtl5Yyh9LHIPtYMpL20"
    "U4xkLKWXhfay1AUNTCFSRxe0vdR6wjm5a6VIxKg3RDZrJZFdLWbYTtYc0UDuIm0Of+WdWR"
    "laF17mUUOFN9t++fBuJ2XOBLpIm484i6XRnb2qpVKQltlkshyZFqfPtDgL6HqoYQbj1ETk"
    "FUGROBDaqBogHBUfILoHtdIhHFSkQzjgHXhlYe72voqdxqlJ/3uMtzMd7Ww3cSEQ63Mw+/"
    "p/g9fpnQ=="
)

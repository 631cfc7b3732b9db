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
COMMENT ON COLUMN "staff"."role" IS 'OWNER: owner\nMANAGER: manager\nCASHIER: cashier';
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
COMMENT ON COLUMN "staff_invite"."role" IS 'OWNER: owner\nMANAGER: manager\nCASHIER: cashier';
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
COMMENT ON COLUMN "identity"."platform" IS 'TELEGRAM: telegram\nVIBER: viber\nWHATSAPP: whatsapp';
COMMENT ON TABLE "identity" IS 'One messenger account of a customer (Telegram user id, Viber id, WhatsApp number).';
CREATE TABLE IF NOT EXISTS "channel_opt_out" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "channel" VARCHAR(16) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_channel_opt_custome_674aab" UNIQUE ("customer_id", "channel")
);
COMMENT ON COLUMN "channel_opt_out"."channel" IS 'TELEGRAM: telegram\nVIBER: viber\nWHATSAPP: whatsapp\nEMAIL: email\nAPPLE_WALLET: apple_wallet\nGOOGLE_WALLET: google_wallet';
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
COMMENT ON COLUMN "membership"."status" IS 'ACTIVE: active\nLEFT: left';
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
COMMENT ON COLUMN "campaign"."status" IS 'DRAFT: draft\nSCHEDULED: scheduled\nSENDING: sending\nPAUSED: paused\nDONE: done\nCANCELLED: cancelled\nFAILED: failed';
COMMENT ON COLUMN "campaign"."delivery_policy" IS 'EVERY_CHANNEL: every\nFIRST_REACHABLE: first';
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
COMMENT ON COLUMN "voucher"."source" IS 'REWARD: reward\nMILESTONE: milestone\nBIRTHDAY: birthday\nCAMPAIGN: campaign\nMANUAL: manual';
COMMENT ON COLUMN "voucher"."status" IS 'ISSUED: issued\nREDEEMED: redeemed\nEXPIRED: expired\nVOID: void';
COMMENT ON COLUMN "voucher"."redeemed_via" IS 'SCAN: scan\nCODE: code\nSELF: self';
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
COMMENT ON COLUMN "stamp_event"."kind" IS 'STAMP: stamp\nREWARD: reward\nFORFEIT: forfeit';
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
COMMENT ON COLUMN "delivery"."channel" IS 'TELEGRAM: telegram\nVIBER: viber\nWHATSAPP: whatsapp\nEMAIL: email\nAPPLE_WALLET: apple_wallet\nGOOGLE_WALLET: google_wallet';
COMMENT ON COLUMN "delivery"."status" IS 'PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nSKIPPED: skipped\nHOLDOUT: holdout';
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
    "eJztXWtzozgW/SuU98P2VGW60k7n0dmtrcIJSXvHsVO2k+6e8RRRQLa1wYIBOWnvbP/3lX"
    "jYPAQBGzuY0dZUbQd0AZ+rx9XR0dWfjZmpQ8N5fwNtbQowaZxLfzYwmEH6j8S9A6kBLGt1"
    "h10g4NHwCodLPTrEBhp72hgYDqSXdOhoNrIIMjG9iueGwS6aGi2I8GR1aY7RH3OoEnMCyR"
    "Ta9MZvv9PLCOvwO3SCP60ndYygoUc+F+ns3e51lSws91obkyu3IHvbo6qZxnyGV4WtBZma"
    "eFkaeZ8/gRjagED2eGLP2eezr/N/afCLvC9dFfE+MWSjwzGYGyT0cx/V1bWGqnZ7Q3WgDF"
    "W1UQAgzcQMXPqpjvvrJ+wTfm5++Hj68ezo5OMZLeJ+5vLK6Q/v1StgPEMXnu6w8cO9Dwjw"
    "SrgYr0B1/z8B68UU2Hxcg/IxZOknx5ENcMyCNriwwnZVn3YB7gx8Vw2IJ2RK//zQPMyA8l"
    "7uX3yW++9oqZ/YK03aALyW0fVvNb17DO8VvgTN4H9NXAjjsM3ucG7cDS8aOwH65GMOnE8+"
    "psLMbkVR9j9YNQCezMGkENo82x2iDvFuQD/LgflZKuRnccQfgfY0sc051hmUpl0EcZ7tDh"
    "H/24er5qej093AntU7B7CfpsJ+God9bNpwXdh5truE/cr9317CDjQNYlIc8rjdTuE+/qQc"
    "tvYSbsOcmKpF356AuoUwsBd8sMNWMaAfFwQ6OaD2I7uqxCcZqLY6Pde3M8f5w/BhbrW7cv"
    "/buxv5qwv1bOHf6vS610F5y3TIxHYf1Gh9GypyDHrNhgweFZAk+Jf0DotN+PBHLWMO0H3T"
    "98E/9jFapD9Q72Fj4VeUDO8M2zfKYCjf3EZcdCkPFXanGfFOcPXdSayBLB8ifWkPP0vsT+"
    "nXXleJu3FZbvhrg30TmBNTxeaLCvTQbCW4GqD2g82zxk+hSQG7wIbmF2DrauTOqno4BIzH"
    "nGbpm1390ocGcIFN1gF/ujkIHrFn7v8RVPjg6qoahOao+Bn5Xc2GCLXdJ9UVJ41CsSFKF7"
    "RcXeF5NufaFNobInTvPaWuIGlgZgE0wRvXI+8xdYKJdeVm00zr3JO3Zs1Z/ArAdDKs++9m"
    "b4r03xwecdmxp5OIy+GjXAbxtwg7SaBB5zlgps4daKtIb/wuGMY3ZBgT7uAE9ZNUlHnWr2"
    "O+B23Xh/1Ts3l0dNo8PDo5O/54enp8drjEP3kryxGt9jXzRSSCDJwTIsqQYxlgoRalfeN2"
    "O5zI7mYG+6GZhyCjpTLI3wRJZptGCsoKns9cpNv0mwDWYALxwLbKRHuj96Wr9M8l84V+zQ"
    "jfyF35mv3tjR30yoU8+NxmVzTgTJEXihT2zEkex8QnTyG/nCTZHIKeOY5pmRRzgNOonMAo"
    "zi1Qq225JBgHdswt9HqdyMS11Y51LN27m5ZCUXdBp4XYTIXb3wg6Ib2W14tOiPR7cGY+r+"
    "X1qGUJXt8fRq9KTg4wyfRyEHNzY7rUgC5mVadYbqMQOkHHJYFOonxl2pBOXX+Bi0QwwZ/s"
    "hrUeewZy2mSXXrbBy3I2F69gFAP6y6E3QNF45EK+VBo/0rnOrU+dfWIvbQK94v1emUaraF"
    "Xytdl0Q5Yciq0Bf56zu/C7hRjWkoHwk0SmgNCQ7Qk60svUhM/QlkwLYkdCRHLfJJljWghK"
    "AbLv42HcFh4vdELVmsWLqUwlpzLEfPIEJLm1RYFBOc542zq/ZVWRmLykQ1/fyYs7ekFnDa"
    "9HLWvo9T3xcq7ZC41U1mnZITMxO628fx8X6nIBoejKQ8oD1pqwVszPb7P2EAyKFNNCIXrC"
    "rkYu2DBeF2TMdpAVZMwuyRh+J1ECwHmlZhXrG/KCm+gYI/DSr5C6d53OW5Fdrj6Lw3IFuq"
    "10eksLSuShtQiYWZJlm2yIppNz0zCgRqSHB/eGo2IIdag/PHgFnQNpAokEJF9gJY1Nm5a1"
    "oftzCfxOHh647NZ23iJIrmqRXGIz3HY3w0VaSxLowQwYRmolThjXKVo5ap6eLGsz+yOrIg"
    "9u5E4nGQKG+pcilThmVsO63DzMU5dpqdS67N6Lou337eozMJCOyELVwYKjRM2u06kP2V3d"
    "Pjqsfs1m3vSbv0XR0iikRZFOecTucD6uPswuPhQz09DNF6w6kL6Kp9LP7qK5D9hlfd5yhS"
    "5tyv4fE1FEii7gRK3EKs6rqzhC7SfUfhWISOq7YCaoR0E9VpAd21AHFoZ99ghtZ4qsDXea"
    "3SwfVCPYxb5FsW9xL/YtXswdYs5cljXJSQf3DjJ56XApkQJtn0bVgwzWd4xshxTeERe1Wm"
    "seVrFlpx1siDPAGkhHjATQOYEunght4wRolYa55PxncAYQh4RMR3dpUD9om8d5SBtaKp1f"
    "P07QNi5e6jO0EX0oT7qVRd8kjXdI4yyv7C2P84hsMmVrEUVZ9ohhjWRaZbDrHjYzE9M2sx"
    "asS1MBLAfYBQSc1Hx5cA0sBayCzP3Lk7nUDesJ4yOGQhpfNWl8glbOw3wiHWKCCNo0oV3b"
    "e85iD5t6LkbPtIhqzsmmhN4UYAyNnkV68zoR87HFIkGm54SK/kzEpjCbtr5L7zm1an3bJI"
    "qXvRWHKA73ZOlEMQqXelXE3MNs77vj0Ok0tCWgaeYcE7YpHkgB4yy9G/q7kCSWB01C+oF0"
    "jx79f32ZAuLIlkV/CGsTPyUVzNt5BTcTn0Wr49i0Z6wA/E6gjYEhkvC9Nccd9kqSsXp9C3"
    "/YvsoK0cZQ6SjXffmGus+vziN8326xjfvPrDaP8JfP8nAg396eSy+sUrNWnM9FW97KH24s"
    "XC+lbTqOmFXZOZWRhLEOrugqRNimfhRu+RgHqwkUQn2tZYilYf3QLr/zsCHQpu5PT4aKWU"
    "R5xE5IHYXUUbBjWexYECwX3MAetRJSx9eljmGpzYZSx7C2Z89Azr0ROFrBqpTyLkpq8aRX"
    "cdYrQ3/lFVV9ui3X7LqQDOu3SL3zXydmrm86cw28wI0gX5+4hsyrPDVaa946wsqN3O6cS6"
    "7cYYTpzY6ifpE7HWV4LtECBlRfgEF7ghG+7vWuQzcnpjlZ3q3G/FdEVCKiEhGViKhERJUd"
    "UYUWvjjhVHRZLOs470i5HJlWAkj+7kiWATQomZj+ByWWreW99PDwCAxWbR4eJORIwHgBC8"
    "dN6+vMZ2ylARFHMqDO1h/oxxDg8PKsbOUdrwd6LN+MiPLeMsqjXQ6Zc9Y58wV5K+sdnkuz"
    "2iJcJM6TL4bte4VGZ671CHeUKxqOGXC8VhRW+qHORoBvzvodstjdILwvG/yfkYN4opD0dC"
    "BLAwFmHEx3F4gL0BozhISxEKhVTaAW9rU1fzSQVjw3RtxOZMd4dZmOpRNZa9IdMRRz7qq0"
    "rzxzbhZtrNOJrsxE91nl7pPNZwryKSsLwaXwVnsFSyVYqv1iqfq0G+m3L4aNRNdQBrb1On"
    "s9geuqO1w/bQx8hnjTLQEDllBPYQ+qEdoiY8xbK9xD1YpDIUcrXeYpdDNLhcuC+YTu5jOc"
    "wUB87uXV9kmk91LffHEkYEMJu8fEzS0WT+qS6dK5tA3qKcr2zZ+Zcqh8mCNHOpxZJoFYW6"
    "hPcJEgjH9bdq6h9cjfBY28Sxr5if6sdUnkwLbSMgF3anDu1fER7itf5P7lueSlcB7hq17/"
    "SmkPz1nC+TFEVaCU3XWYAjV9WV5Ey7zEDF6vpoIx4cXIr9H0KzuBLgdd2m07ZiHCcWWxw4"
    "WngktOa1KNW0maHh9DC0DNMa3fxgBxhqWg/ATlV4nBYBX8F81rHLMT6HLQ9U8wLwJs2KRG"
    "qXrKUxv4Z4kUAjVqJGDNkYM7zAlsSKPWMofFQSIPd6xDzHEIoGCpy2CpEx1uCZjW/EjF8C"
    "CTcpoip88tAdf8DPaeIhsdaSp1UmWAPYcLD7klnQgP1YKy96OFj3xw98MnWeeV+DV0/rzg"
    "nXcrXzbnNk83m1O+vLSuNPccZ5tv2h06b6UT2nNphgzoEBPDEW61+8PPl/K3c8nNrqmDxQ"
    "hf0Mmt3L7unkvB2QfUWu7eyR1qCvAcGOsw1eVvQSOI8DIopJNSS4MqO65KBGDRZCAb5QCp"
    "Nr5bqL5F9bJCKJufSN3DHSrIceYw8Hrubr49GNwptJv3rNki46Wi3Chux69DOGPXlK+37T"
    "675IUc9Mp9r03/fDa9iOHt24L39WvQ3hFDwXpXmvUOBbwFvRy1FHLmKns56HbWcHPMVPh5"
    "L/z8jDiKkXzjbPwZFV4ibgwuZDojcjRAZ0MXvUs6jWLR7ggPlM4VvQ6N8TpDadnn3LCOcq"
    "HacMZ+/VqJ4blPEE2xyk2RxXFrOTtiKHxcdR+rxSVPMbMKd7CV4j183quoRiNiJZZnOTuz"
    "hPBFCF/2Cl1xWPq21Lt+6P+4KAZu0lB0tOIs+iLxYDln0QsFzFYVMEK5tRPl1upQ+o3rbu"
    "7z7SvW9eavvpHwPofeKDRUlYBwzbVcyXG9UqqjZf3mJcUO1f2MfNjhUqUKjxIio/Bw769l"
    "ConRTiVGRc+r2eismqqNWLHV4mYehoaWSl8vbiYYmj1c39dt4KeNLLDqcNmXWcZJ13aEBx"
    "eflcu7DlvKd7Qp1OcGW8wfKN3LdveaLUJgnfplhG/luwErZIG5w0pcurIv3VV8XcjdC6Xj"
    "PkNj4BjuM67ktntpDJABKyIKAHMdQbYPdowMwk068e9Br8tvTzzbOMGNNCL9TzKQs7W5TO"
    "Of4znWmC+lxzn9EISd9+y1/ypYDcpgvBlWEbI7gP7djfw17pWLTq8VZ7HZA1oxF1lzZ6oS"
    "+J0zsczK+xcyEjtx8xDSS8hUA80QB+3sk9M55rsjpZpbzllaxunpgdy9sKQ0YShWWHJV6A"
    "C3Z2AgHZGFqoMFp4PPrtapD6kRI1hG7fZPVSk0gIZtqjFwsvfVZuD0T4teqJZpIC0ltcLr"
    "gSznMTscUGFwTnWRiFa5V/rfVIpft6uww3DYM2j82e4PhmpfkemNVocGq2NkO1XIiLM8xc"
    "rWeTvHXm1AK0PRikpvReyQbHb2KD8CHdKraQt0UbsaBKFZWhfl6zAb+qXUpdPrXgfF4/6I"
    "RaRTkzA6zYAFT0BOGNYwYjo+zhMxHR+nR0zsXhTwqWno5pyoFrQ1yFvJy46VOOa1ObWgjB"
    "hpyaesIaOL2wolXZWVdDSUstfLsRS1FF6uspfHCCNnupabY6bCz1X2s8iYlj461vdMDD8v"
    "8Bpej1oKr1fF65zGnsg+LtTDpeux/T6wqAgzYVcjxlWIhyuJrFC3CnVrlWEtpG5d9Z8lAF"
    "tzYWBirCmsC3y780v2BHLe0hSCG6J06a9N1ajNb/WYlyVeHIVpGMt0hakeLpXvfBdvIUQi"
    "pntwt0WbhnuGt3eMt7eC9Q/Jcwu7K70LVKwHy9O/D4KCP6Wc91L+O/hnhIf0tZHzwj3LzF"
    "x8mGljACFwZpHiCflaaPJXEcx+ajaPjk6bh0cnZ8cfT0+Pzw6XsVzyVlZQ12pfs7juIDyV"
    "fF1WG/gy4YJ8y+Uh8yoLbRtDpaNc9+Ub6mI60E1sMBvh+3ZL6Z9Lz+gR2iP85bM8HMi3t+"
    "fSyxQQh/YJI6zcyG22oj4DyBhherOjqF/kTkcZnku0gAHVF2DQcXOEr3u969DNiWlOlnfj"
    "bfhttJ97qO+1PPVtwQXexm2g3rUC9W5Sz0uvDN0/SVypS+/90r69dRXBT8iy2JXPvc5l74"
    "4a+Gt+1fCo37sWFnmF7cSKZQjQ+JiVwDWbCOWYi5WO6pCfSc7bgMCB6vpJ1Hj2wuOV9zif"
    "JEjX10SM6qetKT9V6M7PEfuL4UvHGWhjYBTUicXM6of0VlRiLEZcR9myMhNDQpWHBJPOEt"
    "Za944YCh9X2ceagbSn9SQtEUvh5Up7WQiXaiZhySNcervMgpVzctlSFp/yL4hs1Eog+7ra"
    "4m2SBlUN5DKyBvGlAaGlq03hDT2qrvBG2y8f3rfJGCRDG2nTBmc1179zkLWWC1ZltpkrSG"
    "QF2mVWoGdoO6hgAueVSZWXLKvEgbBGVQBhv3gN0f2QK3PDh4zMDR94Z4Jhwt1/mLEVemWy"
    "+03QbzMdLW27cyIQ2+Vg9uP/TGCEwg=="
)

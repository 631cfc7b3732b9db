from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "merchant" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "timezone" VARCHAR(64) NOT NULL,
    "default_language" VARCHAR(8) NOT NULL,
    "background_color" VARCHAR(7) NOT NULL,
    "foreground_color" VARCHAR(7) NOT NULL,
    "accent_color" VARCHAR(7) NOT NULL,
    "logo_png" BLOB,
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS "staff" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "telegram_user_id" BIGINT NOT NULL,
    "display_name" VARCHAR(128) NOT NULL,
    "role" VARCHAR(16) NOT NULL /* OWNER: owner\nMANAGER: manager\nCASHIER: cashier */,
    "active" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "removed_at" TIMESTAMP,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_staff_merchan_7c58ae" UNIQUE ("merchant_id", "telegram_user_id")
);
CREATE TABLE IF NOT EXISTS "staff_invite" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "role" VARCHAR(16) NOT NULL /* OWNER: owner\nMANAGER: manager\nCASHIER: cashier */,
    "token" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "used_by_telegram_id" BIGINT,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
) /* A single-use, expiring link that makes whoever opens it staff of the merchant. */;
CREATE TABLE IF NOT EXISTS "card" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "stamps_needed" SMALLINT NOT NULL,
    "reward_text" VARCHAR(200) NOT NULL,
    "voucher_validity_days" SMALLINT NOT NULL,
    "max_stamps_per_call" SMALLINT NOT NULL,
    "stamp_cooldown_seconds" INT NOT NULL,
    "join_token" VARCHAR(64) NOT NULL UNIQUE,
    "active" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
) /* A stamp program: collect ``stamps_needed`` stamps, get a voucher for ``reward_text``. */;
CREATE TABLE IF NOT EXISTS "customer" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "first_name" VARCHAR(128),
    "last_name" VARCHAR(128),
    "language" VARCHAR(8),
    "email" VARCHAR(254),
    "email_verified" INT NOT NULL,
    "birthday" DATE,
    "created_at" TIMESTAMP NOT NULL,
    "erased_at" TIMESTAMP
);
CREATE TABLE IF NOT EXISTS "identity" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "platform" VARCHAR(16) NOT NULL /* TELEGRAM: telegram\nVIBER: viber\nWHATSAPP: whatsapp */,
    "external_id" VARCHAR(64) NOT NULL,
    "username" VARCHAR(64),
    "reachable" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_identity_platfor_2d1616" UNIQUE ("platform", "external_id")
) /* One messenger account of a customer (Telegram user id, Viber id, WhatsApp number). */;
CREATE TABLE IF NOT EXISTS "channel_opt_out" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "channel" VARCHAR(16) NOT NULL /* TELEGRAM: telegram\nVIBER: viber\nWHATSAPP: whatsapp\nEMAIL: email\nAPPLE_WALLET: apple_wallet\nGOOGLE_WALLET: google_wallet */,
    "created_at" TIMESTAMP NOT NULL,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_channel_opt_custome_674aab" UNIQUE ("customer_id", "channel")
);
CREATE TABLE IF NOT EXISTS "membership" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "status" VARCHAR(8) NOT NULL /* ACTIVE: active\nLEFT: left */,
    "balance" INT NOT NULL,
    "visits" INT NOT NULL,
    "last_visit_at" TIMESTAMP,
    "public_token" VARCHAR(64) NOT NULL UNIQUE,
    "joined_at" TIMESTAMP NOT NULL,
    "left_at" TIMESTAMP,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_membership_custome_149cd4" UNIQUE ("customer_id", "card_id")
) /* A customer's place on one card. ``balance`` is always the sum of its ledger deltas. */;
CREATE TABLE IF NOT EXISTS "campaign" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(120) NOT NULL,
    "status" VARCHAR(16) NOT NULL /* DRAFT: draft\nSCHEDULED: scheduled\nSENDING: sending\nPAUSED: paused\nDONE: done\nCANCELLED: cancelled\nFAILED: failed */,
    "audience_filters" JSON NOT NULL,
    "push_text" VARCHAR(200) NOT NULL,
    "push_text_limit" SMALLINT NOT NULL,
    "voucher_title" VARCHAR(200),
    "voucher_validity_days" SMALLINT,
    "channels" JSON NOT NULL,
    "delivery_policy" VARCHAR(8) NOT NULL /* EVERY_CHANNEL: every\nFIRST_REACHABLE: first */,
    "channel_order" JSON NOT NULL,
    "message_text" TEXT NOT NULL,
    "photo_file_id" VARCHAR(255),
    "holdout_percent" SMALLINT NOT NULL,
    "scheduled_at" TIMESTAMP,
    "started_at" TIMESTAMP,
    "finished_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_campaign_merchan_92df0c" ON "campaign" ("merchant_id", "status");
CREATE TABLE IF NOT EXISTS "voucher" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "source" VARCHAR(16) NOT NULL /* REWARD: reward\nMILESTONE: milestone\nBIRTHDAY: birthday\nCAMPAIGN: campaign\nMANUAL: manual */,
    "title" VARCHAR(200) NOT NULL,
    "code" VARCHAR(16) NOT NULL,
    "token" VARCHAR(64) NOT NULL UNIQUE,
    "status" VARCHAR(16) NOT NULL /* ISSUED: issued\nREDEEMED: redeemed\nEXPIRED: expired\nVOID: void */,
    "issued_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP,
    "redeemed_at" TIMESTAMP,
    "redeemed_via" VARCHAR(8) /* SCAN: scan\nCODE: code\nSELF: self */,
    "voided_at" TIMESTAMP,
    "void_reason" VARCHAR(200),
    "campaign_id" INT REFERENCES "campaign" ("id") ON DELETE SET NULL,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "membership_id" INT NOT NULL REFERENCES "membership" ("id") ON DELETE CASCADE,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE,
    "redeemed_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_voucher_merchan_3c30c3" UNIQUE ("merchant_id", "code")
);
CREATE INDEX IF NOT EXISTS "idx_voucher_status_306bf5" ON "voucher" ("status", "expires_at");
CREATE TABLE IF NOT EXISTS "stamp_event" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(8) NOT NULL /* STAMP: stamp\nREWARD: reward\nFORFEIT: forfeit */,
    "delta" INT NOT NULL,
    "balance_after" INT NOT NULL,
    "reason" VARCHAR(200) NOT NULL,
    "idempotency_key" VARCHAR(64),
    "created_at" TIMESTAMP NOT NULL,
    "card_id" INT NOT NULL REFERENCES "card" ("id") ON DELETE CASCADE,
    "membership_id" INT NOT NULL REFERENCES "membership" ("id") ON DELETE CASCADE,
    "staff_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "voucher_id" INT REFERENCES "voucher" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_stamp_event_members_d2f15b" UNIQUE ("membership_id", "idempotency_key")
) /* One movement of a stamp balance. Rows are never updated or deleted. */;
CREATE INDEX IF NOT EXISTS "idx_stamp_event_card_id_c03dee" ON "stamp_event" ("card_id", "created_at");
CREATE TABLE IF NOT EXISTS "delivery" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "channel" VARCHAR(16) NOT NULL /* TELEGRAM: telegram\nVIBER: viber\nWHATSAPP: whatsapp\nEMAIL: email\nAPPLE_WALLET: apple_wallet\nGOOGLE_WALLET: google_wallet */,
    "status" VARCHAR(16) NOT NULL /* PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed\nSKIPPED: skipped\nHOLDOUT: holdout */,
    "attempts" SMALLINT NOT NULL,
    "next_attempt_at" TIMESTAMP,
    "lease_expires_at" TIMESTAMP,
    "leased_by" VARCHAR(64),
    "reason" VARCHAR(64),
    "external_id" VARCHAR(255),
    "sent_at" TIMESTAMP,
    "opened_at" TIMESTAMP,
    "clicked_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "campaign_id" INT NOT NULL REFERENCES "campaign" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_delivery_campaig_74a53d" UNIQUE ("campaign_id", "customer_id", "channel")
) /* One message to one person on one channel; unique per (campaign, customer, channel). */;
CREATE INDEX IF NOT EXISTS "idx_delivery_status_bb1bd8" ON "delivery" ("status", "next_attempt_at");
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSON NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztXflv47gV/lcE94fOAtlBxpkckxYF5ERJ3PUR2E4ys+uFwki0zUamtBKdjLud/72kDl"
    "sHpUi+ImtZLNAJySfJ3+Px3sfHxz9rU1OHhvOxDW1tAjCpnUt/1jCYQvqPRN2BVAOWtaxh"
    "BQQ8GV7jcKsnh9hAY08bAcOBtEiHjmYjiyAT01I8MwxWaGq0IcLjZdEMoz9mUCXmGJIJtG"
    "nFb7/TYoR1+B06wZ/WszpC0NAjn4t09m63XCVzyy1rYnLlNmRve1I105hN8bKxNScTEy9a"
    "I+/zxxBDGxDIHk/sGft89nX+Lw1+kfelyybeJ4ZkdDgCM4OEfu6TuiyrqWqnO1D7ykBVaw"
    "UA0kzMwKWf6ri/fsw+4ef6p8+nn8+OTj6f0SbuZy5KTn94r14C4wm68HQGtR9uPSDAa+Fi"
    "vATV/f8ErBcTYPNxDdrHkKWfHEc2wDEL2qBgie2yP+0C3Cn4rhoQj8mE/vmpfpgB5b3cu7"
    "iRex9oq5/YK006ALyR0fGr6l4dw3uJL0FT+F8TF8I4LLM7nGt3g4vaToA++ZwD55PPqTCz"
    "qijK/gerBsDjGRgXQpsnu0PUId4N6Gc5MD9LhfwsjvgT0J7HtjnDOoPStIsgzpPdIeJ/+3"
    "RV/3J0uhvYs2bnAPbTVNhP47CPTBuuCjtPdpewX7n/20vYgaZBTIpDHpfbKdzHX5TDxl7C"
    "bZhjU7Xo2xNQNxAG9pwPdlgqBvTTnEAnB9S+ZVcW+yQD1Uar6+p26jh/GD7MjWZH7n370J"
    "a/ulBP535Vq9u5DtpbpkPGtvugWuPbQJFj0Gs2ZPCogCTBv6Q1zDbhwx+VjClA90U/Bv/Y"
    "R2uR/kC9i42531EytDNotpX+QG7fRlR0KQ8UVlOPaCco/XASGyCLh0gPzcGNxP6Ufu12lL"
    "gaF+0Gv9bYN4EZMVVsvqpAD3krQWmA2g/mZ42eQ04BK2BL8yuwdTVSs+weDgGjEWdY+mJX"
    "v/SgAVxgk33Adzf7wSP2TP0/gg4flC67QchHxS/In2rWRKjpPqmqOGkUijVRuqDtqgrPiz"
    "nTJtBeE6F77ylVBUkDUwugMV67H3mPqRJMbCo362ba5J6smtan8RKAqTOs++9mb4rM3xwe"
    "cTGxp5OIi+VjswzibxF2kkCD+jlgqs4caKtIr/0uGMZ3ZBgT6uAY9eNUlHnSb2O+B2PXh/"
    "1LvX50dFo/PDo5O/58enp8drjAP1mVpYhG85rpImJBBsoJEWXIsQwwV4vSvnG5HTqyu/Fg"
    "P9XzEGS0VQb5myDJbNNIQVnBs6mLdJN+E8AaTCAeyJaZaK91HzpK71wyX+nXDHFb7sjX7G"
    "9v7aAlF3L/pslKNOBMkGeKFNbMSR7FxJ2nkF5OkmwOQS8cxTRMijnAaVROIBTnFqjUtlQS"
    "rAM75ha63VbEcW00YxNL567dUCjqLui0EfNUuPONoBPSe3m16ITIvAen5stKWo9KbkDr+8"
    "PolUnJASaZWg5sbq5Nl2rQxaSqZMutZUIn6Lgk0EmUr0wbUtf1FzhPGBN8Zzcc67FnIKc5"
    "u7TYBq8Lby7ewSgG9JdDb4Gi9siFfKnUfqRznVt3nX1iL82BXvJ+b7jRKlq2fMubrsmSQ7"
    "E14M8zVgu/W4hhLRkIP0tkAgg12Z6hI71OTPgCbcm0IHYkRCT3TZI5oo2gFCD7MW7GbeHx"
    "Ik6oXF68cGVK6coQ89kLIMkdWxQIbEYZ79vntxxVJJyXdOir67y4qxd0VtB6VLKCWt8TLe"
    "fyXqilssrIDokJ77T0+n2aq4sNhKI7DykPWMlhLZme32fvIVgUKaaFTPSEXIVUsKa9LsiY"
    "7SAryJhdkjH8SWIDAOcNNSvZ3JAX3MTEGIGXfoXUuWu13ovscuOzOCxXELeVTm9pQYs8tB"
    "YBU0uybJMt0dQ5Nw0DakR6fHQrHBVDqEP98dFr6BxIY0gkIPkBVtLItGlbG7o/l8Dv5PGR"
    "y25t5y2C5CoXySUOw233MFxktCSB7k+BYaR24oRwlayVo/rpyaI3sz+yOnK/LbdaSRMwNL"
    "8U6cQxsQr25fphnr5MW6X2ZbcuirY/t6svwEA6InNVB3NOJGp2n059yO769tFh+Xs206Y/"
    "/C2KlkYhLYp0yiN2h/Nx+WF28aGYmYZuvmLVgfRVvCj97Cma+4Bd9uctd+iNuez/MRFFpO"
    "gGTlRK7OK8uYsjov1EtF8JLJLqbpgJ6lFQjyVkx9aMAwvDPn2CtjNB1ponzdqLB1UIdnFu"
    "UZxb3Itzixczh5hTl2VNctJB3UEmLx1uJVKg7dOqepDB+o6Q7ZDCJ+KiUiv5YSXbdtrBgT"
    "gDrIB0REgAnRPo4onQ1k6AVmqYN5z/DE4B4pCQ6eguBKoHbf04D2lDW6Xz68cJ2sbFS32B"
    "NqIP5YVuZdE3SeEd0jiLkr3lcZ6QTSY64IRgMBaHD3lYJou/2b/OnoE5o18EByY4sBpVw2"
    "rxxBFBEVFctojiBBuXhzBCOsQEEbRuHrCm95z5Hg71XESIaRHVnJF1eZAJwBgaXYt0Z1Xi"
    "M2Mcu+Agc0JFfyZilt+6o+/Se06lRt82+bXFbMXh18IzWTq/hsKt3oz97GJ2ZNhxqBcCbQ"
    "lomjnDhJ0lBlJA1EkfBv7hDYmlj5KQfiDdoyf/Xw8TQBzZsugPYWPip2Tg53ZewU1gZtHu"
    "ODLtKWsAvxNoY2CI3GXvTQ2GtbLKyeewfJkD62oDpaVc9+Q2VZ/fnYf4vtlg551fWG8e4o"
    "cbedCXb2/PpVfWqdkozqeiLZ+ADg8WrpbSzmpGxMqsnNJE0rAJrih5G5apHvO1eYypi6xN"
    "3J+eNF6yGK+InIhZEjFLgq/J4msC863gSdSolIhZejtmKbxnvmbMUniTfs9Azn2iL9rByp"
    "S7Kkqz8GIo4jxMRiCF11T1CaBc/l6heIrfIv3Of53wpd7Vlwq0wDUe33alQuJlNtZX8qSG"
    "WGnLzda55O5bDjGtbCnqg9xqKYNziTYwoPoKDDoTDPF1t3sdqhyb5nhRWw6PTFhUwqISFp"
    "WwqIRFlW1RhbZiOOZUdKMm617eSLscKRMCSP7uSJYBNCiZmP4HJZZ24aP0+PgEDNZtHh8l"
    "5EjAeAVzx83P6cymjPtGxJEMqDNGnH4MAQ4vYcJW3vG2occSRwgr7z2tPDrlkBln5y2fkb"
    "eU3uEFE8uzfkXsPPli0LxXqHXmSg9xS7mi5pgBRytZYRu/ndUI8M3Zv0MSu1uE9+Wk7gty"
    "EC9MIf1c/0JAgBkH0w3ndgFawUNICIuQqbKFTIV1bc2eDKQVP+QelxPH3N/cOGJ5AVZyui"
    "OCwucuy/jK43Mza2OVSXQpJqbPMk+fzJ8pyKcsJQSXwtvtFSyVYKn2i6Xq0Wmk17wY1BJT"
    "wyawrdYlyglcl9Ph6vkf4AvE6wap91lmLIU9qEJoi9QP7x1zHepW/PukQp0u8zqpqaXCRc"
    "N8odfmC5zCIBzaS5Drk0gfpZ756kjAhhJ273uaWcye1CXTpXPpGNRTYq3Xf2bK7dBhjhzp"
    "cGqZBGJtrj7DeYIw/m0xuYb2I38XNPIuaeRn+rNWJZED2VKHCbiuwbnXx4e4pzzIvctzyc"
    "vFOsRX3d6V0hycs8zRI4jKQCm7+zAFevqivbCWeSesvVlNBSPCs5HfoumXcgJdDrp02nbM"
    "QoTjUqJyN5tvJftxfA0tADVHVBwMeJvfFVFVqdALyk8QU1k3IwXGf9EEpTE5gS4HXf8q4i"
    "LAhkXEVV6caAP/UoBCoEaFBKw5kumGOYE1adRKZlU4SCTUjU2IOW7zEiz1JljqxIS7AUwr"
    "fjdaeJFJuRaNM+duANf8DPaeIhtdaUp15VyAPYcLD6klnQgP9YJNn0cL527X6Js5rPMy+D"
    "V0kbTgnXcbvmzObF7cbM7w5YV0qbnnONvcbrao30od2nNpigzoEBPDIW40e4ObS/nbuRSk"
    "dhziC+rcys3rzrkUJDGn0nLnTm5RUYBnwFiFqd78ETSCCC+DQjoptRAos+LKRAC6c1gBgI"
    "P2FcR3C923aLysCJTNT6Tu4QkV5DgzGGg99zTf7PfvFDrNe9Jsk/FSUdqKO/HrEE5ZmfL1"
    "ttljRZ7JQUvuu03654vpWQzvPxa8r1+B9o4ICta71Kx3yOAtqOWopAhnLrOWg2lnBTXHRI"
    "We90LPL4gTMZJvnY0/o8RbxLX+hUw9IkcD1Bu66F4q7IJ4nXpQfaV1RcuhMVplKd1w/A5b"
    "0VcaehFBMfDKPPCYqtTiwS8xsRIPtVJ5wD4DUnS3PiIlNuo4Z3RECIQIgdgrdMX9t9uK4/"
    "SNwKd5MXCTgmKiFdcLF7EHN3O9sIiF2GoshIjh2UkMz/Ke4bX7bu4ri0s29ebvvhHzPkfk"
    "SWip2gDCFY/qSa7rpYo/WfRvXnrkUN/PyIwcbrXNK6ajESn+rpYINtlpsEnRuzTWukejbC"
    "tW/BLkPAwNbZVxCXKCodnDnV7dBn4CwQL882VPZrkHXdkh7l/cKJd3Lbap62gTqM8Mtq3b"
    "VzqXzc41o6OxTvUyxLfyXZ81ssDMYS0u3QAg3Y39uZA7F0rLfYbGwDHcZ1zJTbdoBJABS7"
    "I9DGY6guxE5AgZhJt+4N/9boc/nniycYIbaUT6n2QgZ2u+TO2foxnWmC6lpxn9EISdj+y1"
    "/yrYDTbBeDOsImR3AP2Htvw1rpWLVrcRZ7HZAxoxFVkzZ6IS+J3jWGZlgAsJiTOZeQjpBW"
    "SqgaaIg3Z/CgwjddXmiO+OlKpvOXvlUf30ZLF8sz+yVu5+W2610s/lFA4uTAiKHZZcHTrA"
    "7QUYSEdkrupgzpngs7t16kMqxAhuonf792sUWkDDMuVYONn7KrNw+jfZzlXLNJCWcsj+bU"
    "OW85gdLqgwuEO3iEWr3Cu9byrFr9NR2LUo7BnU/mz2+gO1p8i0otGixuoI2U4ZcqMs7jOy"
    "dd4ZojcH0FJQjKKNjyJ2gS8YwxQLdEBL0zboonIVMEKzYl2Ur4Ns6BehLq1u5zpoHtdHzC"
    "KdmITRaQYseDtrQrCCFtPxcR6L6fg43WJidVHAJ6ahmzOiWtDWIG8nL9tW4ohXJn/9Jmyk"
    "BZ+yQhhdXFZE0pU5ko6aUvZq2XaikkLLZdbyCGHkTFZSc0xU6LnMeha5s9JXx+rejuBniF"
    "1B61FJofWyaJ0z2BN5qEX08Mbjsf05sGgQZkKuQoyrCB4uJbIiulVEt5YZ1kLRrcv5cwPA"
    "VjwwMLHWFI4LfL+bLPYEct7WFIJronTp701VaMxv9cKPBV6cCNMwlukRpnq4Vb6bPryNEI"
    "mY7hXOFh0a7m3O3oXO3g7WPyRPLaxW+hBEsR4s7oE+CBr+lHLzx+bfwb8tOhRfG7k52pPM"
    "zMqGWWwMIAROLVI8NVsDjf8qAbNf6vWjo9P64dHJ2fHn09Pjs8OFLZesyjLqGs1rZtcdhF"
    "3Jt8NqA10mVJBvuzwkXuZA29pAaSnXPblNVUwXurENpkN832wovXPpBT1Be4gfbuRBX769"
    "PZdeJ4A4dE4YYqUtN9mO+hQgY4hpZUtRH+RWSxmcS7SBAdVXYNB1c4ivu93rUOXYNMeL2v"
    "gYfp/Yzz2M77W86NuCG7y12yB61wqid5PxvLRk4P5J4pG6tO6X5u2tGxH8jCyLldx0W5fd"
    "Oyrg7/mVQ6P+7Fo4yCssJ3YsQ4DG16wErtlEKEdc7HSUh/xMct4GBA5UV0+nxZMXGi+9xv"
    "kkQXp8TUSoerE1m08aufMbpf5i+NJ1BtoYGAXjxGJi1UN6K1FizEZcJbJlKSaWhDIvCSb1"
    "Elba944ICh2XWceagbTn1UJaIpJCy6XWsghcqlgIS57ApffLLFg6JW86lMWn/AsiG5USyL"
    "4dbfE+SYPKBvImsgbxQwNCW1frwht6VFXhjY5fPrzvkzFIhjbSJjXObq5fc5C1lwuWbbaZ"
    "K0hkBdplVqAXaDuoYALnpUiZtyzLxIGwQVUAYb95BdH9lCtzw6eMzA2feLdDYcI9f5hxFH"
    "opsvtD0O/jjm7suHPCENvlYvbj/z24jGI="
)

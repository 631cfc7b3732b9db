from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "delivery" DROP CONSTRAINT IF EXISTS "uid_delivery_campaig_74a53d";
        CREATE TABLE IF NOT EXISTS "automation" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(120) NOT NULL,
    "recipe" VARCHAR(32),
    "chain" JSONB NOT NULL,
    "trigger" VARCHAR(24) NOT NULL,
    "enabled" BOOL NOT NULL,
    "resume_mode" VARCHAR(8) NOT NULL,
    "switched_on_at" TIMESTAMPTZ,
    "switched_off_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "card_id" INT REFERENCES "card" ("id") ON DELETE CASCADE,
    "created_by_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_automation_trigger_12cc66" ON "automation" ("trigger", "enabled");
COMMENT ON COLUMN "automation"."resume_mode" IS 'one of models.enums.ResumeMode';
COMMENT ON TABLE "automation" IS 'One trigger and a chain of steps (``automations.chain.Chain``, stored as its JSON).';
        CREATE TABLE IF NOT EXISTS "enrollment" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "event_key" VARCHAR(96) NOT NULL,
    "status" VARCHAR(12) NOT NULL,
    "step" VARCHAR(32),
    "due_at" TIMESTAMPTZ,
    "lease_expires_at" TIMESTAMPTZ,
    "leased_by" VARCHAR(64),
    "entered_at" TIMESTAMPTZ NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "automation_id" INT NOT NULL REFERENCES "automation" ("id") ON DELETE CASCADE,
    "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_enrollment_automat_431d66" UNIQUE ("automation_id", "event_key")
);
CREATE INDEX IF NOT EXISTS "idx_enrollment_status_de2140" ON "enrollment" ("status", "due_at");
CREATE INDEX IF NOT EXISTS "idx_enrollment_automat_fcf8f8" ON "enrollment" ("automation_id", "customer_id", "entered_at");
COMMENT ON COLUMN "enrollment"."status" IS 'one of models.enums.EnrollmentStatus';
COMMENT ON TABLE "enrollment" IS 'One person going through one automation, once per trigger event.';
        CREATE TABLE IF NOT EXISTS "enrollment_step" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "step" VARCHAR(32) NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "reason" VARCHAR(32),
    "fired_at" TIMESTAMPTZ NOT NULL,
    "enrollment_id" BIGINT NOT NULL REFERENCES "enrollment" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_enrollment__enrollm_3783ab" UNIQUE ("enrollment_id", "step")
);
COMMENT ON TABLE "enrollment_step" IS 'A step fired for an enrolment: written in the same transaction as what the step did,';
        ALTER TABLE "merchant" ADD "quiet_from_minute" SMALLINT NOT NULL DEFAULT 1260;
        ALTER TABLE "merchant" ADD "frequency_cap" SMALLINT NOT NULL DEFAULT 2;
        ALTER TABLE "merchant" ADD "frequency_days" SMALLINT NOT NULL DEFAULT 7;
        ALTER TABLE "merchant" ADD "quiet_until_minute" SMALLINT NOT NULL DEFAULT 540;
        ALTER TABLE "campaign" ADD "automation_step" VARCHAR(32);
        ALTER TABLE "campaign" ADD "automation_id" INT;
        ALTER TABLE "delivery" ADD "enrollment_id" BIGINT;
        ALTER TABLE "campaign" ADD CONSTRAINT "fk_campaign_automati_b1e26913" FOREIGN KEY ("automation_id") REFERENCES "automation" ("id") ON DELETE CASCADE;
        ALTER TABLE "delivery" ADD CONSTRAINT "fk_delivery_enrollme_c8214fb5" FOREIGN KEY ("enrollment_id") REFERENCES "enrollment" ("id") ON DELETE CASCADE;
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_delivery_campaign" ON "delivery" ("campaign_id", "customer_id", "channel") WHERE "enrollment_id" IS NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_delivery_enrollment" ON "delivery" ("enrollment_id", "campaign_id", "channel") WHERE "enrollment_id" IS NOT NULL;
        CREATE INDEX IF NOT EXISTS "idx_enrollment_due" ON "enrollment" ("due_at") WHERE "status" = 'waiting';
        CREATE INDEX IF NOT EXISTS "idx_delivery_customer_created" ON "delivery" ("customer_id", "created_at");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_delivery_customer_created";
        DROP INDEX IF EXISTS "uid_delivery_enrollment";
        DROP INDEX IF EXISTS "uid_delivery_campaign";
        ALTER TABLE "delivery" DROP CONSTRAINT IF EXISTS "fk_delivery_enrollme_c8214fb5";
        ALTER TABLE "campaign" DROP CONSTRAINT IF EXISTS "fk_campaign_automati_b1e26913";
        ALTER TABLE "merchant" DROP COLUMN "quiet_from_minute";
        ALTER TABLE "merchant" DROP COLUMN "frequency_cap";
        ALTER TABLE "merchant" DROP COLUMN "frequency_days";
        ALTER TABLE "merchant" DROP COLUMN "quiet_until_minute";
        ALTER TABLE "campaign" DROP COLUMN "automation_step";
        ALTER TABLE "campaign" DROP COLUMN "automation_id";
        ALTER TABLE "delivery" DROP COLUMN "enrollment_id";
        DROP TABLE IF EXISTS "automation";
        DROP TABLE IF EXISTS "enrollment_step";
        DROP TABLE IF EXISTS "enrollment";
        ALTER TABLE "delivery" ADD CONSTRAINT "uid_delivery_campaig_74a53d" UNIQUE ("campaign_id", "customer_id", "channel");"""


MODELS_STATE = (
    "eJztXWtz2zbW/isYvR82mXE9tpzYSdrpjJ04XW8dO2O7l924Q0EiJGFNAixBWtHu9r+/AG"
    "/iBZRIiqJIBv2QyiQOSD4Hl3PHfwcm1ZHBDs9dHTuXxLGXg3fgvwMCTcR/SO4egAG0rNU9"
    "ccGBY8NrDkU7DUUNx8yx4cTht6bQYIhf0hGb2NhyMCWC4JYgMJlDMkPAhDoC4yVgDpxOwQ"
    "tqA2eOALWQDR1qvwQOBRCwObUOwR1dMABtBAh6RjZwLR06SD8Uj9TphD8Tk1ntvT+SRzIa"
    "8a/hrz4aAcwEgfflQKcObwEEaODFaDSBtn6IOBKj0QEYjbxHHtrUQNHfpnXoEp3ybh7d4d"
    "HwlD9/Dp1HIt6Jv7ADOGyEGfy57HtOoSMHYoO3nlNDZ2AhWvjfpfNPMXQACX86WoBnaLiI"
    "HQCs839EZzaCjJKXHjQuwX+6SHPoDPFbNgfoyx/8MiY6+oqY+PPLwES26NgR7SecmH+WBp"
    "3BH6Kh9aRNMTL0xADBumjqXdecpeVduyLOR6+h4MdYm1DDNcmqsbV05pRErbH/tBkighdI"
    "dO/YrhgrxDWMYGSFw8f/hlUT/+VjNDqaQtcQI05Q+y+wujbQtJvbB+3+8kHTBpnRGFLEhl"
    "BwaUKJGMn8VZn39TPxCt8Nj1+dvXpzcvrqDW/ivWZ05ewv/9ErYHxCD56bh8Ff3n3oQL+F"
    "h/4KVD7IqK05yEAzG5qaDOMLPMuFWUq+GfUQ4xjsAagR6mGTFeyred0c7m+Hw5OTs+HRye"
    "mb16/Ozl6/OYoYkL21jhMXVz8JZvAGlC9T/hIWcifBDfGeGRa8n0M7lwEBRQp1/jEFUM8M"
    "9n3DbsKvmoHIzJnzP0+GaxD99fzu/d/P716cDF8mYb0J7gy9W0mA/eUtC/A/7m9v5ACvKF"
    "IA63jigP8BA7Miw7sS0IMfpi7xGAzGLjYcTNiheOyPgx3BvwZugZDo2WTsTyMO84tP57+n"
    "OfD++vbCg4wyZ2Z7vXgdXKTYEVv3Myz5wO842ERytiQp06wJSA/DHx2cCWtY8XD16fL+4f"
    "zT5wQ/Ppw/XIo7Q+/qMnX1xWmKR1En4Lerh78D8Sf41+3NZZptUbuHfw3EO0HXoRqhCw3q"
    "cUzCy+GlBJvDrV66veTuLSmqSrtK27haz3a+QtYT+MrBGifp0U69FaRC5pw+SQWkuJiaRP"
    "gjtRGekZ/R0gP6ir8VJBMkwTVQbT7FuurYuP0rHEXh1dU4sOEiEtbTc5ZjwL8cOb4Qc37/"
    "/vzD5SA7gGvA9j7sp1uDtyiu8UmbAJW/ALj55fp64I3hMZw8LbhKqCUGs7hDhzR1JWqbvW"
    "UOzfQVSODMg0d8h3jr9JiWqPLx8Z6vyMcn2EYtPh/YzSqnUiybVCy9/2dgzVdkwvY9VGOO"
    "h0cF9BjeKleR8e4ld34h1v6HklIYx2maw3nwy8P7XSksSaBPXxXA+fRVLsziVlpf9F5YMy"
    "CZuXwFLIO2jLZB1BFpBvQ3BTB/kwv5mzTiYlua2dQluoCS2mUQl9E2iPj/HX8cvj05awb2"
    "datzCPtZLuxnadinXOCqCruMtknYP3r/dRJ2OJkgLi2XhjxN1yjcr99eHl10Em6Dzqhm8a"
    "dnoL7ABNpLOdhxqhTQ46WDWGfVDqmhOjDdRXYljubF1c353T8jQ19kXLq+vfnpQmLqu/jn"
    "w+V5GnroYMfVJTvoR4PCHGE7TpRCfiqoeoX8h9tfLq4vwee7y/dX91eBtTWy43k3xSV+Af"
    "u6393l+XVmgJNZBZjjVArnAjhPXNtGZLIss2bHaZqUvu8/NLNWnxRx1uT7atJrNSVjCm29"
    "kncgTVuDf6A747tz7gFrXlKPjQgqTaOWcXLXLk82gURwg2leNIhE9KHUQJDkeAuy1GkRiJ"
    "PvavGKrjQsA93eXicmz8VVynV/88uni8u7F8cvkztF1kHzp4uRo01tamomJq4jGef3JjSM"
    "XHujtIPmfGHHw9OjXQ183wJ5Mjw7jYyP4o91Mv/9p/Pr6zyUXeJgYyuY0z00h/PrVx2AeW"
    "oj/kVchNEmULKQrEc4Q9wcuMMuQavDJauObUjdHLhn7QdXhZnko8w/UL8lxjIQjDoiVwYy"
    "XEaszDjy872iMSOcCCWWyEUB2cef75AwREjD7KRRyx0bA3lO6CKO+jIgFfXRdxIfTJ5xYA"
    "vcEqErr6e+4iQi1rdE6T1v11d4qOVo1HW2RWgOCUHGreXcun0KN0pA9UzdyRzZW0L1q99L"
    "X0ESO6TpQbAlTudRR32FagJNC+LZtkC9D7rpE0y7jCDzpQJJ+FgkLuTHjkVCSb2BY8nkpC"
    "i7xWXIFjF4f6jAsj0GlmXYkZ2taxKWZNR9iixvOGFJx8wy4FIrG+2XpmvQH9aMM+x4WCQu"
    "irdaE/OXiY0SiZ1ylC+Ja2YipROIh7Rtjq8cUIIAnYJgA0D8o4Jt4C54+9JsOC3ChbSRIs"
    "aE02zEjoOfJVxY60VZETXoPAkX/c76Trg67WjIlCbsrQlyTVD1z0M4fF0kypW3yh3U3j1l"
    "If02LaSJ/QSZ9LkS15OUKryizeEVKvtSpQq2wIhwUCVVcD9JbXEzfJ5hYmWl32Ce0PCq5c"
    "YiNeeAcWwN9J0r7qKvFhZYAwOTJ69uCzDhExJlWahXMIZaiDCAnaDWDBedRSWWENlslZr6"
    "u1dpd+2yjigVcf8qokOfUKkiLhFBPcjvd4DvOCNPaSr50PdXU/G2KsQqcD1J2UOud4TLhV"
    "QVLpZUmdkxMqWKtp6/42X1enM5HfSojk3DDhwbPXPho5oJKE6p5l2b510o+vCZU0rrytD1"
    "aKLVVoNL2deUfa2r9jX5IlEDwD2vx5VZGFtVlMsLkJUYLsPA2XyL5SRsUcRSKRICgWVTIY"
    "i9A3xpM9DECatOM40gpCN9NPIbsgMwQw6AIAjbBFNq87Y28j7XQV+d0UhqsNzNU5Tdsl12"
    "S1UubLflwhKzJQv0+vSyDHGfpJU6Esxi60uZQZwi6+FYHh4VGcu8VX6wylFmLAdru/YMDa"
    "xjp1rKZG4nzY3tkw6k/ApuBtPf4mhNOKRlkc7posHc6vbD7OHDMaOGThdEY4g/SpYmtX6J"
    "lnbQ5Hje8YCuTWX/N8UckbJuuiSV8tVt9NWpWNnGYmX5/JcVvSjm+I+IGwzDX7F5W++/0G"
    "rvwy/Yc/VSyJ6YZqMJ4q+sQZO6MmvV+uEv70EV3SkxGcSBV9qCfyNdVNhKc6ib20dPO7OP"
    "qmCMfKj7G4yhHB7K4dFCm/yWAcVx2M0xstkcW1umgn+KOuoR7KoGQzdqMHTEs6ZKMOy/BM"
    "N7l/GB5XnBsj7D8N7BWr9hvJU6xKdL8sfBGq/cFNvMKZ3cn6TqXwbuTnL7DVgB6QSRArog"
    "0OWP8tn6CJ9Ww1yzDax0xr5K1i+XrO/hpT0jG/NOZQHU6+yLWWJlWixhWhxj25kLX3FZL2"
    "iCsEdhtHV4P31sTEr4nKkEa0SqgJUAu0RQcrhUEVxDSgWrZAG2bGpa1azf0g5UCkUXUiiU"
    "q+NbcnVwNlRLSUwQqpndtpmdcboU8QtgHREHO3jbKt9Xfj+9LRWvalgXhkq5mgpDhYhNDc"
    "NEZNuBdRl11Feo+GdioeFvu1B98Pvp1UK1Sz9KtLBL/CjxRT/fj4LjrTbmYN0SUY2JMURm"
    "yAZwMhHRYiI+DoLQIQNePASp8kBUPAZYPwC/4nHw67c5dNi5ZfEPEcvHy2wC1m4eIa25bf"
    "HhOKW2KRqgrw6yCTRUue19u4DiXKkSWxqnb3OCizS09HPs5fdfVyo+KaTcyFFFkmRtZkJr"
    "ItfFQlbWGRen6Z8no36MQ6cah1B2XvVmb1xE2D+06188bAQnc+/TsyLhOn9Rgk5lZBT3FC"
    "mDYf5Y76/BMBSKS9bZSVKp2OjNsdHxiLMtY6PjIW4dA7lwvZLkAGtTseWknU8WgZg2BK4J"
    "Q/SbaoEFspgWfR5psn9j4HFAKNcBbORXO8bscQAcCoRywObU4j+838GDZAVLqnf2SB7JZ6"
    "42i3sHYIwmkIuUXslllzB3LF56jIDFYRT1UEzMUPwRnk+RAXFSOPhBdPHjI38hBpeiwjNv"
    "5NBH4j0NTh/doyP0Fpj8TfkdBzDMBY+J/6gxfEL20vvJOB+AhWzG35NDR4GBnxDLV+DjUz"
    "KeuhB8n1Lk96rIh1yQCtqb9fgYeZs1SHmG6Ord9y+IK7lQyYVKLlTlF9uJrJK4m5S4ZeO4"
    "BnhVsuc+FZqYK16izSQd9fmqjJlsV06LsQzIxflQveBfdAhGozE0xLAZjQBmXJ5fwCXzxX"
    "zXFBITdhgwkC7cfPxlHMg2KDf1PWOjMuFVpeSYf4nqU3puSFFMSliAlV6xT71CFI9xJYEG"
    "xUvPuLL6Gt2oPbOazffRh+w5/SaYgiVGeoyiOTmoKyVOnjHDsoij/MKCEYECMw2ml6/oAV"
    "RB/c0Qq7DatoXVxnltuWMDT8pX2UvTqTp7Gz3pCWmoBNRpuv750d8WgPptLtJv00CLCpCV"
    "THcJQmW5a8tCVsRyZ6Bppd1qRab2qTbvU0KlLGmVXVEou6Es8kXZupVFtn0mw3UW2Tu+jN"
    "xdvX8YZJaGOrANuukrrqvlsHrNPfS8fWLPvaiBfvnc48QeVW4vB6RS9vwVngto8NGqWZCt"
    "gfSWoAfK/9kM7G9ed5+D3jop0q0ffzNKZwbSAtjo+N9oIqtvXRq4n7x+ffhuo157AmBJ91"
    "FsFZO4j5JrXL77yD8PAkUNi+WS0Wck8iL9/C7/5K3AOHwI7uiCAWgjQHivNnAtob7ogHqu"
    "HL7k6znJY9v3KfUPJf1jWEemRR1EJkvtCS0zLqGY52gVRPOHchQ16Sh64p9V1U0U0nYu9O"
    "za83b+HLz+nl1Dns+1xMiO2itlTFYKzF/FNDh1ZCrYJnfbik6hKz2YGjJaynGwomjQlVzS"
    "iVzRjL2TY9T8w0U0ExNaZvimyXpUG6y2wZsWR0qMYglp/9wyO3CBqahqZaxXxvoq4dOhHl"
    "U2gDpFp9CVSjFcr2WIlcM2RaV2WOl5d9NpOVTjJApSSaRbcCJuKVCTRArWAmc6xe1WWwf6"
    "97Dq20Em1D+102zOpVCOu1ocd5kFtwZM78N+urUqFMU0vskkQOUvAG5+ub4eyNbcGnAt7t"
    "TrKLLJnaYAtqEUVc+gLe5ZTuO7V6N+UXRTImcOvPtJqAqHtsQdFhv1+b6w2CSr92yqL8ky"
    "B7JcpC+xDBf01cJcF1aup+ZzlKhry1JiCuYoRdSdcz8F8+M++oL91z9wsCMrQpZvEY0I2o"
    "x+mwz75dMAtgj/bze+Oxi+ZfNZVCJLcSt+B3NJMWMuCrley1pdOZG0/sHuf1wFp0qCUPlU"
    "Wu1TiYmlJbmcpFRpLm3mso10hMxKkzlFqvjcCT4/Y0moV7GNNN1HiwMQpDvpnff+v/ovv+"
    "/TUMUaudRsZIoPr3SUlLQHNQvbPAufKa7G7ASh4nHbeayVD1NMkbV4bW2TTcNTKCqgnaZT"
    "cBczIUHTgnhGysZaJahUNIAkN1oFsNUda+ubGsbLcrCmydRgVbGBqnBtP5CN9Neyi0KWUC"
    "0LBSLaVOHamgvXqli2ncayqRjMRmIwfWWglrG76qpbS2/x4ZvQnApFt0VbVQ0I9zwqM7uv"
    "F0A40hAUvpvwTStTrQofPHcdasLg0zMRhLG7B+uCCGGyXaF6GhzcmXdsMtHFeclzjqDwVT"
    "AHWQy8GI1WfbJD7644qQaT0eiAt+FDjFMxr2b6P+5vb3IOZ97BMySRjpmoxuCxojkiAiNd"
    "xTQ2G9NY9njarY6mbZvckgp8GRYxgfJW+aEvw4wJ1EYTbJVCeEXRPyvzybAAwifDXIDFrZ"
    "QlVCxDWXjFMpRjCA0J0m4xPHHA/4CBWYf1RhmsAoqEMyyE88Wn89/TSL+/vr1Ie7lEBxfp"
    "+MXVwl04gnFF0sPFY1gkinGYH8U4zEQxhhtiBuK1By3HqBo8Zjm60tlzlvlYd02kmblBz0"
    "XiXRJdNBg96j95UI4BOTEvoqdPwSfsOeiFLbAzmXONgMNYPgYiS60CIdocCLHi13S6Fbsj"
    "csXvNvNb1drJX1X7ew5CUJyzAteTlIrrbeG6ZLJnKv42H6/SsoW79gCgYAks65rO0ClwVU"
    "iF8vm3Qajrus+/ZYvCTlz+q+VTefM2Apveakq78+K2MJsahrn94R6XUUc9WihSyc/I0sJA"
    "gC3R6l/ERLkjPkq6iGODS+IiTg69fBcxSrYr5CK2kM0oATPKMQHO3KbubO6dqL3y2x7wvy"
    "dey8jZ653rIPcHb9PhI3kko5H3W9QeHo2AQMI/wdu7yn9BB/jfiXRx3QQvHoPTDd+Zr4aP"
    "/J0e+dDxT1gWV94Nj4an3x0ff3ckbvInCDeZa4tXDm4Nvzt68zh4+b33GH8YAj54bfAi/s"
    "rRW70UR4svxHuY8Im/HAw/4pF4bzcVKcnAWeAJh5zyT1xQsKD2E8cFsAkkRADD2wkMDvxv"
    "4X0EsFGuxHl38g+eSAYCRK+1tvKPznsRVX/EEeZJ+vgRXkgcxlnlaIoLPPtW3Olvh8OTk7"
    "Ph0cnpm9evzs5evzmKJNvsrXUi7sXVT0LKPYjr1Zud7it2Z5iQ7z9LEPXQg/a2SN2Jt/l1"
    "J95m6k50sA7IAmJHQFYOcakrZ7XfbFELpIi//jjfX3+c8dcL8aTMqA/bq1iIzbEQwf6QQX"
    "e9XXVFpfwl7TGhZi3nBoIMadXLrMjoFcdbz3G5sSF/wUwQ9W/VrL9aWExeLjmjkpQ99Ej1"
    "aTJNMcFsXonPKVK1aLaZzyvFuJz7JkOnHDjqUPb9ucaS9p0tPQ3J7JSOAV3U35CZwAXcOT"
    "Gz2bZOslhXPQU4NYurn9LuZRXV5ce5DwwEPQE9qdAjAz8jG8tOHyiD1ge/n2VnJZN9+XG8"
    "wbXWlxMOvyL+HC00Zm126px7qXeeF0IHUyoS83wng+jnHVjY2HEQAZh47g7G347DAgkTHh"
    "NKRDKe59vwboqOdKwfZBw9u3jIIxEphKH/BdngRdTjgdfqJf8fBYT6JN6B3TFfi/ca0dN8"
    "d0q+EyXpKvPQTftPlAeklR6QRs3AbVv7d20Hpq4zoeXSOmMkPYS4/pLmjZ8r3bJ9eddD2N"
    "uTKplqlEHuoBuGmphcVHYvzpD2yaLQwM68xu6QFKm2VIp7GW13kFKLM4OxrGK8S1UmiuCT"
    "KDHx6L589SVegKnec88ykU7xcPAg+kJVA1HVQPYkM+6iGkgHI5J0G06dQTnIpfFI4XLTpp"
    "OJoKtjxKHmPRoOsiWcyS8kIqNtvqbI4IepS3x7zNjlL4IJOxSP/bEky+oQQXdSacRy2Vxz"
    "0FeJPJK/LiWIGpwsuwK9gVrtEWSagU0sQfvehIaRu8NKyJsTyodHu91vT4Znp9FWK/5Yt8"
    "vefzq/vs56TsODh0sfXJkh7J/9YCcDOsTtGRpYx85S0+FSssCvH9a5nfQob7aO0S3kdhKo"
    "DkU30DhNOzZO8bzebJyB83CpWdTAk5wYws1Cp6SbBjdUFLott5U+Qxfo5+gr9lzcKBj9Gr"
    "V1WQDCxmmzIlRzp/a5YyLG4AzlyJ0P/KqcN2m6Hoie60zOl78/rIc+sjhf3978FDZP8yMl"
    "h86pIwxeBpKahdfI/GnCHspJr18XkZNev86Xk8S9JOBzaujUdTQL2ROp2Xe9hCQhb07w74"
    "Dcz0RRMteo5M1K06rI4zY7tLgAZVcrbZWkVFxuM5dVHsG3wWdVnjB/d+xmoTpVnvBb5Lpk"
    "smfirC2bit6YxnXr8tEoMuoemQcbiRSV8CLUpSuzI9mB4sjWHDEgmbkc0VJauYy4f5p5zc"
    "bBCDUdzxAr5/rMkvYP7voDTmOLOJo8VZIAcrpQYn57dv6swBfLGiybkyAhVTOtQJUab11i"
    "GqtgbEzTKktjazLf2zaK6058b7yCeev0P1XCvDvgqhLmqoR5C3MlWl7CvKuwqhrme65hLh"
    "fDasC3VOWWjoJcsHBLkcoiQbjmluUyfvV76Q/i+y4q0pV1dadVRSK8JKl4cSzzU/H0eKtC"
    "deEDEzhwqFe8PSpP7v0VBBJ+n6jWEab7HYCw3M9B2DDn6PAdPKNIsuAqGYqIrAPoOMi0HF"
    "X1fN9+g/zkwoDFchPb5kDkGHmb0w3luW+rd99/0lsHkxAtRPSayqKHS22r0hD9xat0dkqc"
    "TplCY4Cmt4QMrus9ORJy5cVpsxdH1Ub/JjmuaqPvuDa6KnO149rzXx1kE2iUTHVJkfUP6Z"
    "0kugincZXg/BWZ2hLavCVQriVUCtxJECoet5nHEwNXjM5KUiout5rLKveiZ1H4RXIvQrNw"
    "2TCbBJWKWVCndjSI7N6LmLZsF2pFDdN4ycqtA0cKn4DdtqFePHgksYCqU1NqhrfIqSnyJa"
    "UGgEtV4G3ZWlIU4VYX4P0NGvxNPkPmr2kpv3/s7sE6z//Ca6dZYcONzv+HOfK98ZxCuMAg"
    "MJE5RjabY+t7wJCNoQHESR0OfUIEEO8cDuFhnSH/WHdxBodHjDm9KzklfidP2Oz4L+Xb/1"
    "Yc+zurB+yzUSOu4GwZC2WGsB5n8X7B3rExmCtHc76I4YkfC+fNmzKY59G3OVqiNeBHUlAQ"
    "zlQGeBltDyp/NVCj0y+aoDlwVk53StLtSjPNLC47jnxoOK9b1brYJHq23apWyJhqcyaIj9"
    "UYDlSFMqzOUjdiOm9yX+8Ts5XlPH+R7a/lfKV5lc33S9HVs5N2XiXK2BaL5J7YaIbFi4gX"
    "3jK1QhgE7mLddXC2lUixkI3jLH63BD1Q/k/hZMp4V50awcWTKVOzt4DdaytbVmZYSixasq"
    "Gbb9cS9h/NTjcvcDqujp6xZ0OCDsBiMBgG0gH0DUrC6rSAHE1xwWVzsJiLY2ydwPzEssas"
    "OjqUnlDrd6sZeGxDWyQRCgWdw+1pg3GrXvrc2i/BiRqeEq9OwWrU6rWWaUWNAms76aFJ5n"
    "hYpAYWb7XmvKxsHazVHCgBfZKqh1jvxBYTaXqQVYuwknagAq2UuqjUxXapi8rw1zeuSyZ7"
    "Ju8/Jm2WsxJkCVUo2OYgpJTLfss4jmSgQMeQLqrQZgdamyI5fqJ0ZiCfEbfjfyNPQc3ov5"
    "JWB+s04JnXXgs+na4oCijBKwPA3xjwHwz8JwODLqHhLIHf4QGw0UScF6X7oRcLBIL9Wyix"
    "XOP1iWV6ce3PeCSP5Ipr0ugrV/rF+aki/mMh1G4TPiHmhYX4D+UdQq5gc6BENYnEs9+B0O"
    "calp/wlPRHMoaGmEjA36gYmFFRl2I08t+Rj6rR6DDsSqe8AaEOcJBhAJf5Wj2MglL8kaeD"
    "qU1NAB+Jxecl+p43eHX0yr8o3vX88xV/UZM+B+9u04UKZWmhUh+NgDKaZIKodyEsO1HZlU"
    "rRN+GyiErBlnzVrXT0UZxQGQvaoz8oL2OLvIzKadZZp9k5svFkLlMVgjtr1QO4arNJIciH"
    "Somi7RJFn/kAlJYHXXMI/Iqkj/6MXZR7EJOqBMJB8x6ie1zIW3S8xlt0nPUW8Sc60hSlNQ"
    "dXr0iaP7J6PzJebYdTbyUrbLuZ/fX/VJ1DIg=="
)

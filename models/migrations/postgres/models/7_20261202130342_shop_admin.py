from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "audit_entry" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "actor_telegram_id" BIGINT,
    "action" VARCHAR(32) NOT NULL,
    "detail" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE,
    "staff_id" INT REFERENCES "staff" ("id") ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS "idx_audit_entry_merchan_5d1330" ON "audit_entry" ("merchant_id", "created_at");
COMMENT ON TABLE "audit_entry" IS 'One change made by staff (or the operator) to a shop. Rows are never updated.';
        ALTER TABLE "merchant" ADD "currency" VARCHAR(3) NOT NULL DEFAULT 'USD';
        ALTER TABLE "merchant" ADD "onboarded_at" TIMESTAMPTZ;
        ALTER TABLE "merchant" ADD "longitude" DOUBLE PRECISION;
        ALTER TABLE "merchant" ADD "latitude" DOUBLE PRECISION;
        ALTER TABLE "staff_invite" ADD "revoked_at" TIMESTAMPTZ;
        ALTER TABLE "card" ADD "state" VARCHAR(8) NOT NULL DEFAULT 'active';
        ALTER TABLE "card" ADD "undo_window_seconds" INT NOT NULL DEFAULT 600;
        ALTER TABLE "card" ADD "asks_receipt_amount" BOOL NOT NULL DEFAULT False;
        ALTER TABLE "stamp_event" ADD "reverses_id" INT;
        ALTER TABLE "stamp_event" ADD "amount_minor" INT;
        ALTER TABLE "voucher" ADD "issue_reason" VARCHAR(200);
        ALTER TABLE "voucher" ADD "issued_by_id" INT;
        COMMENT ON COLUMN card."state" IS 'one of models.enums.CardState';
        ALTER TABLE "stamp_event" ADD CONSTRAINT "fk_stamp_ev_stamp_ev_0063da90" FOREIGN KEY ("reverses_id") REFERENCES "stamp_event" ("id") ON DELETE SET NULL;
        ALTER TABLE "voucher" ADD CONSTRAINT "fk_voucher_staff_cf37c025" FOREIGN KEY ("issued_by_id") REFERENCES "staff" ("id") ON DELETE SET NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_stamp_event_reverses" ON "stamp_event" ("reverses_id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "uid_stamp_event_reverses";
        ALTER TABLE "voucher" DROP CONSTRAINT IF EXISTS "fk_voucher_staff_cf37c025";
        ALTER TABLE "stamp_event" DROP CONSTRAINT IF EXISTS "fk_stamp_ev_stamp_ev_0063da90";
        ALTER TABLE "merchant" DROP COLUMN "currency";
        ALTER TABLE "merchant" DROP COLUMN "onboarded_at";
        ALTER TABLE "merchant" DROP COLUMN "longitude";
        ALTER TABLE "merchant" DROP COLUMN "latitude";
        ALTER TABLE "staff_invite" DROP COLUMN "revoked_at";
        ALTER TABLE "card" DROP COLUMN "state";
        ALTER TABLE "card" DROP COLUMN "undo_window_seconds";
        ALTER TABLE "card" DROP COLUMN "asks_receipt_amount";
        ALTER TABLE "stamp_event" DROP COLUMN "reverses_id";
        ALTER TABLE "stamp_event" DROP COLUMN "amount_minor";
        ALTER TABLE "voucher" DROP COLUMN "issue_reason";
        ALTER TABLE "voucher" DROP COLUMN "issued_by_id";
        DROP TABLE IF EXISTS "audit_entry";"""


MODELS_STATE = (
    "eJztXWtz2zbW/isYvR82mfF6HDm2k7bTGdtxst46dsZ22u7WHQoSIQk1CXBJUI52t//9BX"
    "gTLyBFUhRFcdHpODaJA5LPweXc8Z+BSXVkOIfnro7ZFWH2cvAd+M+AQBPxXyR3D8AAWtbq"
    "nrjA4NjwmkPRTkNRw7HDbDhh/NYUGg7il3TkTGxsMUyJILgjCEzmkMwQMKGOwHgJHAanU/"
    "CK2oDNEaAWsiGj9mvAKIDAmVPrENzTFwdAGwGCFsgGrqVDhvRD8UidTvgzMZk13vsTeSKj"
    "Ef8a/uqjEcCOIPC+HOiU8RZAgAZejUYTaOuHiCMxGh2A0ch75KFNDRT9bVqHLtEp7+bJHR"
    "4NT/nz55A9EfFO/IUZ4LARx+DPdb7nFDpiEBu89ZwaugNeRAv/u3T+KYYOIOFPRy9gAQ0X"
    "OQcA6/yH6MxG0KHktQeNS/C/XKQxOkP8ls0B+u13fhkTHX1Djvjzt4GJbNExE+0nnJh/lg"
    "bZ4HfR0HrWphgZemKAYF009a5rbGl5164J++g1FPwYaxNquCZZNbaWbE5J1Br7T5shIniB"
    "RPfMdsVYIa5hBCMrHD7+N6ya+C8fo9HRFLqGGHGC2n+B1bWBpt3ePWoPV4+aNsiMxpAiNo"
    "SCSxNKxEjmr+p4Xz8Tr/DX4Zu3Z2/fHZ++fcebeK8ZXTn703/0Chif0IPn9nHwp3cfMui3"
    "8NBfgcoHGbU1hgw0s6GpyTC+wLNcmKXk61EPMY7BHoAaoR42WcG+mtft4f5+ODw+PhseHZ"
    "++O3l7dnby7ihiQPZWEScurj8JZvAGlC9T/hIWcifBDfGeGRZczqGdy4CAIoU6/5gSqGcG"
    "+65hN+E3zUBkxub8z+NhAaI/n99f/u38/tXx8HUS1tvgztC7lQTYX96yAP/94e5WDvCKIg"
    "WwjicM/BcY2CkzvGsBPfhh6hKPwWDsYoNh4hyKx/442BL8BXALhETPpuP8y4jD/Orz+a9p"
    "Dlze3F14kFGHzWyvF6+DixQ7Yut+hiUf+B2GTSRnS5IyzZqA9DD8ZQ9nQgErHq8/Xz08nn"
    "/+kuDHh/PHK3Fn6F1dpq6+Ok3xKOoE/HL9+Dcg/gT/vLu9SrMtavf4z4F4J+gyqhH6okE9"
    "jkl4ObyUYHO41Uu3l9y9JUVVa1fpGleb2c5XyHoCXzVY4yQ92qk3glTInNNnqYAUF1OTCH"
    "+kNsIz8hNaekBf87eCZIIkuAaqzedYV3s2bv8MR1F4dTUObPgSCevpOcsx4F+OmC/EnD9c"
    "nn+4GmQHcAPYPoT97NfgLYtrfNImQOUvAG6/3twMvDE8hpPnF64SaonBLO7QIU1didpmb5"
    "lDM30FEjjz4BHfId46PaYlqnx8vOcr8vEJtlaLzwd2vcqpFMs2FUvv3wys+YpM2L6Hasyb"
    "4VEJPYa3ylVkvHvJnV+Itf+mpBLGcZr2cB58fbzclsKSBPr0bQmcT9/mwixupfVF74U1A5"
    "KZy1fAKmjLaFtEHZF2QH9XAvN3uZC/SyMutqWZTV2iCyipXQVxGW2LiP/fm4/D98dn7cBe"
    "tDqHsJ/lwn6Whn3KBa66sMto24T9o/ffXsIOJxPEpeXKkKfpWoX75P3V0cVewm3QGdUs/v"
    "QM1BeYQHspBztOlQJ6vGTI2Vu1Q2qoDkx3kV2Jo3lxfXt+/4/I0BcZl27ubj9dSEx9F/94"
    "vDpPQw8ZZq4u2UE/GhTmCNtxohTyU0HVK+Q/3H29uLkCX+6vLq8frgNra2TH826KS/wC9n"
    "W/+6vzm8wAJ7MaMMepFM4lcJ64to3IZFllzY7TtCl9P3xoZ60+LuOsyffVpNdqSsYU2not"
    "70CatgH/wP6M771zDygvUP4M4x+o3xFjGYzAPWF7MFkyXM/Y2fONljEZWUT6SCS2gOzjT/"
    "dIyAlSL7g0qGjPxkCejbiMHb0KSGVN6HuJDyYLHIjqGyJ07fXUV5xEQNmGKF3ydn2Fh1pM"
    "oy7bFKE5JAQZdxa7c/vkDUxAtaDuZI7sDaH62e+lryBNoGlBPCMbTzm/mz7BtE2vpb/VSV"
    "yW0R6Y76+MdtpmnZXJgNgootJ1kC38vr8rZ+YOnZkZdmRna0GQrIy6T9FMLQfJ6tixDLjU"
    "qnqY03Qt2mDaMcC8GZbxxfFWBX7mjD9OJBPIUb4irpmJzkkgHtJ22ac/oAQBOgXBBoD4Rw"
    "XbwH3w9pXZcFqGC2nNO8aE06yXiOGFhAsXlL8iJPmR4QsZ/GNOtS38w0W/ZZ/F3d1Nwupx"
    "cZ1aRW6/fr644qi/Tlp2s4uLskXlj/J+2aISixwy6aIW15OUys7cZTuzCkNXMdMd0GwP6s"
    "RM7ya6N27wzNOWV/bQNTqzhlct12brngOHY2ugv7riLvpmYYE1MDB59hJYgQmfkchPpV7m"
    "LLUQcQBmQdItl+dESmqIbDZdt/nuVfxxt1R2pbfsXm9h9BlVymaNCJpBfrcDfMuhyUpTyY"
    "e+v5qKt1UhpwbXk5Q95PqecLmUqsLFkjozO0amVNHO83e8rF94I6eDHiX0tuxVsNGCCx/1"
    "TEBxSjXvujzvQtGHz5xKWleGrkcTrbFiBMq+puxr+2pfky8SDQDc88IEmYWxU9UJvFBEie"
    "EyDFHMt1hOwhZlLJWiyh6wbCoEse8AX9oMNGFh+T1HIwjpSB+N/IbOAZghBiAIAuTAlNq8"
    "rY28z2XoGxuNpAbL7TxF2S27ZbdUdRO2WzchMVuyQD+Y0DCKaiclifskrRwPz06j0Sz+KB"
    "rID5/Pb25kWlS0vlQZxCmyHo7l4VGZscxb5Y5l714S7WBt1xbQwDpmS02HS0kkcfGYzu2k"
    "vbF9fNT9kS24GUx/i6M14ZBWRTqni/ZwPuk+zB4+HDNq6PSFaA7ij5IlpBQv0dIO2hzPWx"
    "7Qjansf1DMEanqpktSKV/dWl+dCuBsLYCTz39W2/EfEbcYG75i86bef6HVPoRfsOMyTtB5"
    "djQbTRB/ZQ2a1JVZq4qHv7yHFudCdGVvJ4Oo/K+98G+kLzW20hzq9vbR073ZR1UwRj7U/Q"
    "3GUA4P5fDooE1+w4DiOOzmGNnOHFsb5id/jjrqEewq211lu+9Ftvul6zBqer6drCcsvHdQ"
    "6A2Lt1I1uvdpVz0o8DVNse2wynnUSapamnLHnN0tpFEbsAbSCSIFdEmgq1fq3rhCd6dhbt"
    "iyg0zpCVr56EYE/YN2eFLGVMxb5Xv1TjLGYg8vbYFszDuVhQUXWc2yxMpgVsFgNsY2mwsP"
    "aFXfXoKwR8GhTfj0fGxMSvicqQVrRKqAlQC7RFBSO74MriGlglUZc//njbmcDfWSrhKEKv"
    "2ja+kfGbNyGcsn1hFhmOFNK8Ze+/30tuywqodaGiplTC8NFf9MLFSYTWffB7+fXs2+bRqK"
    "o9VKYiiOr2T5hmIcb7U2deKOiCIqjsPVaWQDOJmIIA8R1gJBaHEGrx6DDFcgqmcCrB+An/"
    "E4+O2XOWTOuWXxDxFz4nU2b2I7j5DWb7X4cJxS2xQN0DeGbAINVbp11zbuOFfqhITF6bsc"
    "ly6NCPsSe/ndl4OJTwopN3Lk6yRZl5nQmYBTsZBV9TbEafpnqm0e49BrwCGUnbe13t0QEf"
    "YP7eYXDxvBydz79KxIWGQQT9CpQGpVCVdZwQoLZARCccXyGEkqFdK4PqQxHlKzYUhjPIZn"
    "z0AuXWYgOcC6VCM1abyShVilrVsFcVZ+Uy0wq5XTos8jTfYvDngaEMp1ABv5RUqx8zQAjA"
    "KhHDhzavFfvN+DB8nqDNTv7Ik8kS9cbRb3DsAYTSAXKb1KqS5x3LF46TECFodRlDEwsYPi"
    "j/A81w6Y8jvgB9HFj0/8hRy4FIVZeSNGn4j3NDh9co+O0Htg8jfldxhwMBc8Jv6jxvAZ2U"
    "vvV4fzAVjIdvh7cugoMPAzcvIV+PiUjEccB9+nFPmdKvIhF6SC9no9PkbeZQ1Snti1evfd"
    "C+JKLlRyoZILVdW0biKrJO42JW7ZOG4AXpWjtUuFJuZflmgzSe9zvipjJttV02IsA3JxPl"
    "Qv+BcdgtFoDA0xbEYjgB0uz7/ApeOL+a4pJCbMHGAgXbj5+Msw6KxRbpp7xlplwismxzH/"
    "LSor57khRQ0YYQFWesUu9QpR88GVBBqUrxjhytLi96NkxGo2P0QfsuP8gmAKVhjpMYr25K"
    "B9qUywwA6WxWfl1wOLCBSYaTC9hCwPoBrqb4ZYxYp2LVY0zmvLHRt4Ur04VppOlcda60lP"
    "SEMVoE7T9c+P/r4E1O9zkX6fBloUbqtluksQKstdVxayMpY7A01r7VYrMrVPdXmfEiplRa"
    "vsikLZDWWRL8rWrSyy3TMZFllk7/kycn99+TjILA1NYBt001dcV8th/VJZaIHIpmlQD6J0"
    "8ZXoqEdoJ40RqkpWA1k9KzxfoMFHq2ZBpwDSO4IeKf+xHthfvO6+BL3tpUhXPP5mlM4MpA"
    "Ww0fEfaCIrS1sZuE9evz58d1GvPQGwovsotopJ3EfJNa7wxHDT0lDUsFwuGV0gE4X5Xf6B"
    "OYFx+BDc0xcHQBsB4h3p7VpCfdEB9Vw5fMnXc5LHNu9T6h9K+sewjkyLMkQmS+0ZLTMuoZ"
    "jnaBVE87tyFLXpKHrmn1XXTRTS7l3o2Y3n7fwpeP0du4Y8n2uFkR21V8qYrNaRv4ppcMpk"
    "Ktg6d9uKTqErPU8WOrSS42BF0aIruaITuaYZeyunH/lnAmgmJrTK8E2T9aj4UWODNy2OVB"
    "jFEtL+uWW24AJTUdXKWK+M9XXCp0M9qmoAdYpOoSuVYrhe6yCnGrYpKrXDSo+pmk6roRon"
    "UZBKIt2CgywrgZokUrCWOIolbrfaONC/h6XMDjKh/qmdpsQJ9Mpx14TjLrPgNoDpQ9jPfq"
    "0KZTGNbzIJUPkLgNuvNzcD2ZrbAK7lnXp7imxypymBbShFNTNoy3uW0/ju1KhfFt2UyJkD"
    "724SqsKhLXGHxUZ9vi8sNsmaPXznt2SZA1ku0m+xDBf0zcJcF1aup/ZzlKhry1JiSuYoRd"
    "R7534K5sdD9AW7r3/AMJMVIcu3iEYEXUa/S4b96mkAG4T/dxvfLQzfqvksKpGlvBV/D3NJ"
    "seO4KOR6I2t17UTS5ge7/3E1nCoJQuVT6bRPJSaWVuRyklKluXSZyzbSETJrTeYUqeLzXv"
    "B5gSWhXuU20nQfHQ5AkO6k9977/+y//K6PexRr5FKzkSk+vNb5SNIe1Czs8ixcUFyP2QlC"
    "xeOu81irHqaYIuvw2tolm4anUNRAO02n4C5nQoKmBfGMVI21SlCpaABJbrQKYGs61tY3NY"
    "yX1WBNk6nBqmIDVeHafiAb6a9VF4UsoVoWSkS0qcK1DReuVbFsW41lUzGYrcRg+spAI2N3"
    "1dV+Lb3lh29CcyoV3RZtVQ0g3POozOy+XgLhSENQ+K7DN61MdSp8MFo9ZGdLxVaWgmOl4q"
    "0ajSDMRAvGhakgnkHFCrYaK1j12NeNjnztmjyQCigZljEt8lb5ISXDjGlxD2N8dBtO2aAa"
    "5PKDqIKFpEsxPtDVsTj9jfdoMGltsb8/3N3Kx76MNu20whMG/gsM7GxNqxv8MHXJROAOxi"
    "5/EUycQ/HYHyuyrAkvlsAq4cAKoX/1+fzXNFcub+4u0p4p0cFFikWW68w1hr5JVOyiOtox"
    "IlURo4zXI4JMM7CJJWg/mNAwcndYCXl75rnhls8AOB6enUZbrfijaJd9+Hx+c5OfYVo5BD"
    "xDqNx4pQZ0iNsCGljHbKnpcClZ4IuHdW4nPbKNNjG6gxMyK22gcZpubJzieb3ZOLnohRfI"
    "XmoWNfAkpw7PeqFT0k2LG6rIzFs2IX1+CD7jS/QVO46Ni45rtnVZDuzaabMiVHOn8bljIs"
    "eBM5Qjdz7yq3kOyiRdD0TPoqi1q18fi6GPgtZu7m4/hc3T/EjJoXPKhMHLQFL3ZYHMnybs"
    "oZx0clJGTjo5yZeTxL0k4HNq6NRlmoXsCZJ5MoslJAl5b87+akIycrj8qLtGrYDYNK2Kie"
    "1yTCwXoOx6ZfiSlIrLXebyFBPszGuxOUWq+NxlPquimvm7Y38PPAuq8NfgepJScb0rXJdM"
    "9szRHpZNRW+OxnVreUjqBZ7lm74l1D0yD74fDo+Pz4ZHx6fvTt6enZ28O4pE4uytIgH54v"
    "qTEI8TTM7KyxGaoS5dmx3JDhRHNuaIAcnM5YhW0splxP3TzBs2Dkao6XiGnGquzyxp/+A+"
    "HpbA+3iYC7i4lYM4V7knz7UkgJwulJjfnZ1fIuarnLSms/wC9adq/kmGrkc7tsqb6iSyKr"
    "FHJfZ0GdZKiT2r9bMBYHses5/ZayoH7e/uXNo9gVwWi4JlBamroBRGcfRozlc7vrdi+keE"
    "lyT9I45lfvqHHm9V7iBV3+wCGAUiEMfiU4MS4P2PQBC88j3w2SLugldhiskBCI8pPwgbvs"
    "45WLX5Z0hLXMeTX+IHzgeUhRWviQiGhYwh02LVy14XWbh6ls3SijkrP+cl5GWGBeXi42Lk"
    "Xc6CkadkrN5997kYe5gbYyGiC8gaYEW4GncqO8ZfvCoHTcfpVCxQDND0lpDBtdjAKCFXxs"
    "UuGxcNBB2k1a8xLKNXHO88x+U6eL7LJkHUP2dN86XyWz8f+38MX77PIJtAo2IEdoqsf0hv"
    "Jf7aQaSOMBAjU1tCl7cEyrWEWv7kBKHicZd5PDFwzaCBJKXicqe5rEKCexYcWiYkeHfloD"
    "vH5KYjRQKLekVkk1QK2fXBDLspR9g1kJuoRyj3vMc8Q5vCG+uqr/Am568c3t1Uy/sFGvxN"
    "vkDHn1sph2ns7kGRy/TFa6dZYcO1XtPHOfLdmJxCOAYgWJUc/R44yMbQAJDowDtOERBRFM"
    "FzXs4E3QQBNg+IMad3WdZnupUnrC/pp4r3tVm8z2ejRlzB2Sp2mwyhOq1zrYmMi4xzRBie"
    "eBErWuWTUfPou+xD7gz40Q4dxIFUAV5G24MyHS0U1PIzHDUGZ1m8i8JVknTbktczi8uW/c"
    "EtJ2GpxNR1gmfXbQ2lTEw2Z4L4WM3BgZ5QhdVZ6lYMim3u631itrIn5i+y/bUnduxgqb1X"
    "iTJ2rzJB+zaaYfEi4oU3jEkXBoH7WHd7ONsqxKaXO0jmjqBHyn+UzpDa5BiZnY7g8hlSpQ"
    "6Rac6WlRmWEouWbOjm27WE/Uez083XWrfOgY4W2LMhQQawGAyGgXQAfYOSsDq9QI6muOA6"
    "c/DC9WKAWWB+crLGrCY6lEb7+91qBh7b0BaZQUJB53B72mDcqpcN+/fLX3tKvDqyolWrVy"
    "HTyhoFCjvpoUnmzbBMwQrequBwi2zRitUcqAB9kqqHWG/FFhNpetCpF3ci7UCFnyh1UamL"
    "3VIXleGvb1yXTPZMwnRM2qxmJcgSqgCZ9QEyKZf9hkEcyUCBPUO6rEKbHWhdiuT4ROnMQD"
    "4j7sZ/IE9Bzei/klYHRRrwzGuvBZ9OVxQllOCVAeAvDvAfDPwnA4MuocGWwO/wANhoIg53"
    "0P3QixcEgv1bKLFc4/WJZXpx4894Ik/kmmvS6BtX+sVhZyL+40Wo3SZ8Ro4XFuI/lHcIuY"
    "LNgRJp+IlnfwdCn2uYt+8p6U9kDA0xkYC/UTlgRkVC/2jkvyMfVaPRYdiVTnkDQhlgyDCA"
    "6/haPYyCUvyRp4OpTU0An4jF5yX6njd4e/TWvyje9fzLNX9Rky6Cd7fpiwpl6aBSH42AKp"
    "pkgqh3ISxbUdmVStE34bKMSuEs+apb65yCOKEyFnRHf1Bexg55GZXTbG+dZufIxpO5TFUI"
    "7hSqB3DVZpsHpStRtE1RdMEHIK5WbCBG0kd/xjaS4MWkqoBw0LyH6L4p5S16U+AtepP1Fv"
    "EnMunRbgWnTK5I2j9fcjcyXmMnSW4kK2y6mf35/51TdG4="
)

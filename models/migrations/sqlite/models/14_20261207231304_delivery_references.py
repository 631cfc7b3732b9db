from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE "delivery_new" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "channel" VARCHAR(16) NOT NULL /* one of models.enums.Channel */,
    "status" VARCHAR(16) NOT NULL /* one of models.enums.DeliveryStatus */,
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
    "campaign_id" INT NOT NULL,
    "customer_id" INT NOT NULL,
    "enrollment_id" BIGINT,
    "delivered_at" TIMESTAMP
) /* One message to one person on one channel. */;
        INSERT INTO "delivery_new" ("id", "channel", "status", "attempts", "next_attempt_at", "lease_expires_at", "leased_by", "reason", "external_id", "sent_at", "opened_at", "clicked_at", "created_at", "campaign_id", "customer_id", "enrollment_id", "delivered_at") SELECT "id", "channel", "status", "attempts", "next_attempt_at", "lease_expires_at", "leased_by", "reason", "external_id", "sent_at", "opened_at", "clicked_at", "created_at", "campaign_id", "customer_id", "enrollment_id", "delivered_at" FROM "delivery";
        DROP TABLE "delivery";
        ALTER TABLE "delivery_new" RENAME TO "delivery";
        CREATE INDEX IF NOT EXISTS "idx_delivery_status_bb1bd8" ON "delivery" ("status", "next_attempt_at");
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_delivery_campaign" ON "delivery" ("campaign_id", "customer_id", "channel") WHERE "enrollment_id" IS NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_delivery_enrollment" ON "delivery" ("enrollment_id", "campaign_id", "channel") WHERE "enrollment_id" IS NOT NULL;
        CREATE INDEX IF NOT EXISTS "idx_delivery_customer_created" ON "delivery" ("customer_id", "created_at");
        CREATE INDEX IF NOT EXISTS "idx_delivery_pending_due" ON "delivery" ("campaign_id", "next_attempt_at", "id") WHERE "status" = 'pending';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE "delivery_new" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "channel" VARCHAR(16) NOT NULL /* one of models.enums.Channel */,
    "status" VARCHAR(16) NOT NULL /* one of models.enums.DeliveryStatus */,
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
    "enrollment_id" BIGINT REFERENCES "enrollment" ("id") ON DELETE CASCADE,
    "delivered_at" TIMESTAMP
) /* One message to one person on one channel. */;
        INSERT INTO "delivery_new" ("id", "channel", "status", "attempts", "next_attempt_at", "lease_expires_at", "leased_by", "reason", "external_id", "sent_at", "opened_at", "clicked_at", "created_at", "campaign_id", "customer_id", "enrollment_id", "delivered_at") SELECT "id", "channel", "status", "attempts", "next_attempt_at", "lease_expires_at", "leased_by", "reason", "external_id", "sent_at", "opened_at", "clicked_at", "created_at", "campaign_id", "customer_id", "enrollment_id", "delivered_at" FROM "delivery" WHERE "campaign_id" IN (SELECT "id" FROM "campaign") AND "customer_id" IN (SELECT "id" FROM "customer") AND ("enrollment_id" IS NULL OR "enrollment_id" IN (SELECT "id" FROM "enrollment"));
        DROP TABLE "delivery";
        ALTER TABLE "delivery_new" RENAME TO "delivery";
        CREATE INDEX IF NOT EXISTS "idx_delivery_status_bb1bd8" ON "delivery" ("status", "next_attempt_at");
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_delivery_campaign" ON "delivery" ("campaign_id", "customer_id", "channel") WHERE "enrollment_id" IS NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS "uid_delivery_enrollment" ON "delivery" ("enrollment_id", "campaign_id", "channel") WHERE "enrollment_id" IS NOT NULL;
        CREATE INDEX IF NOT EXISTS "idx_delivery_customer_created" ON "delivery" ("customer_id", "created_at");
        CREATE INDEX IF NOT EXISTS "idx_delivery_pending_due" ON "delivery" ("campaign_id", "next_attempt_at", "id") WHERE "status" = 'pending';"""


MODELS_STATE = (
    "eJztXVlz47i1/iso34exqzwuW+59UqmSezwTJ267y/YsSTtFQSIkISYBhiCtVpL57xcAdx"
    "KUSImiKTbyMHGLOCD4HWxn/++BTU1ksZOhb2Lvknju8uAD+O8BgTbifyieHoMD6DjJM/GD"
    "B8eWbA5FOwPFDcfMc+HE44+m0GKI/2QiNnGx42FKBMEtQWAyh2SGgA1NBMZLwDw4nYJD6g"
    "JvjgB1kAs96h4BjwII2Jw6J+COLhiALgIEPSMX+I4JPWSeiFeadMLficms8d4fySMZjfjX"
    "8KGPRgAzQSC/HJjU4y2AAA0cjkYT6JoniCMxGh2D0Ui+8sSlFor/bTsnPjEp7+bRH5wO3v"
    "D3z6H3SMSY+IA9wGEjzOLvZT9wChN5EFu89ZxaJgML0SL4LpN/imUCSPjb0QI8Q8tH7Bhg"
    "k/9HdOYiyCg5ktD4BP/bR4ZHZ4g/cjlAX/7Jf8bERF8RE//8cmAjV3TsifYTTsw/y4DewT"
    "9FQ+fJmGJkmZkJgk3RVP5ueEtH/nZFvJ9kQ8GPsTGhlm+TpLGz9OaUxK1x8LYZIoIXSHTv"
    "ub6YK8S3rHBmRdMn+IakSTD4FI2JptC3xIwT1MEAkt8ODOPm9sG4v3wwjIPCbIwoUlMo/G"
    "lCiZjJfKhMfv1MDOH7wdmrt6/enb959Y43kcOMf3n7R/DqBJiAUMJz83Dwh3wOPRi0kOgn"
    "oPJJRl3DQxaaudA2VBhf4FkpzEry9ahHGKdgD0GNUY+aJLAn67o93N8PBufnbwen52/evX"
    "719u3rd6cxA4qPVnHi4upnwQzegPJtKtjCIu5kuCHGWWDBxzl0SxkQUuRQ5x9TAfXCZH9p"
    "2G341bAQmXlz/s/zwQpEfx3effzL8O7wfHCUhfUmfDKQj7IAB9tbEeC/3t/eqAFOKHIAm3"
    "jigf8BC7Mq03sjoA/+NPWJZDAY+9jyMGEn4rV/PtgR/CvgFgiJnm3G/m2lYT78NPw9z4GP"
    "17cXEjLKvJkre5EdXOTYkdr3Cyz5kT/xsI3UbMlS5lkTkp5Ef+zhSljBioerT5f3D8NPnz"
    "P8+HH4cCmeDOSvy9yvh29yPIo7Ab9dPfwFiH+Cf9zeXObZFrd7+MeBGBP0PWoQujCgmcYk"
    "+jn6KcPm6KhXHi+lZ0uOaqNTpWtcbeY4T5CVF756sKZJenRSbwWpuHNOn5QXpPQ1NYvwT9"
    "RFeEb+hpYS6Cs+KkgmSIFrKNp8SnW1Z/P2j2gWRb8m88CFi/iynl+zHAP+5cgLLjHD+4/D"
    "Hy8PihO4AWzvo372a/JWxTW9aDOg8gGAm1+urw/kHB7DydOCi4RGZjKLJ3RAc7/EbYuP7I"
    "Gd/wUSOJPwiO8Qo87PaYUon57v5YJ8eoGtleLLgV0vcmrBsk3BUv5/AdZyQSZq30Mx5mxw"
    "WkGO4a1KBRn5LHvyi2vtfyiphXGapj2cD355+LgrgSUL9JtXFXB+86oUZvEoLy/KARsWJD"
    "Of74B10FbRtog6Iu2A/q4C5u9KIX+XR1wcSzOX+sQUUFK3DuIq2hYR/7+znwbvz9+2A/uq"
    "3TmC/W0p7G/zsE/5hWtT2FW0bcL+k/zfXsIOJxPEb8u1Ic/TtQr36/eXpxd7CbdFZ9Rw+N"
    "sLUF9gAt2lGuw0VQ7o8dJDbG/FDqWiOlTdxXoljubF1c3w7u+xoi9WLl3f3vx8oVD1Xfz9"
    "4XKYhx562PNNxQn6k0VhyWU7TZRDfiqoeoX8j7e/XFxfgs93lx+v7q9CbWusx5MPxU/8Bx"
    "zIfneXw+vCBCezDWBOU2mcK+A88V0Xkcmyzp6dpmnz9n3/Yzt79XkVY025rSa/V1MyptA1"
    "N7IO5GkbsA/sz/zeO/OAM68px8YEGy2jjnFy1yZPNoFEcIMZ0htEcfWh1EKQlFgLitT5Kx"
    "An39XmFf/S8h3o9vY6s3gurnKm+5tfPl1c3h2eHWVPiqKB5t8+Rp4xdalt2Jj4nmKe39vQ"
    "skr1jcoO2rOFnQ3enO5q4gcayPPB2zex8lH8Y9Wd//7T8Pq6DGWfeNjaCuZ8D+3h/PrVHs"
    "A8dRH/In6FMSZQsZGsRrhA3B64g32C1oRLtjm2EXV74L7tPrjazaQcZf6B5i2xluHFaE/u"
    "leEdrnCtLBjyy62iKSWccCVW3ItCsp/+doeEIkLpZqf0Wt6zOVBmhK5iqK8DUlUb/V7ig8"
    "kzDnWBWyJ0JXvqK042YowLO8g14GRCfUG6FWSfov6GQXd9xU14+m8J1Uferq/wUMczqL/t"
    "ZPo4h4Qg69bxbv3ezqRn6k/myN0Sql+DXvoKkrhZ2BKCLXEaxh31FaoJtB2IZ9sC9THspk"
    "8w7dLzLrhNKdzu4mtWuc9dfJlr1uEuG9QVRwX5jJ/22AxCu7RD3gs55BXYUVytKwK9VNR9"
    "8shvOdDLxMyx4NKo6yWZp2vRjtiOEfFsUMWfjLda4StZ8CkTAbFqlC+Jbxc8zDOIR7Rd9k"
    "s9oAQBOgXhAYD4R4XHwF04+tpseFOFC3nlTooJb4qeTh5+VnBhpfUpIWrR6BRt+ntrc/IQ"
    "8wxkKwMdVzgHZ6j6Z1kdvK7iHcxblU5q+Uxrlr9NzXLmPEE2fd6I61lK7ZbSZbcUHbWqQy"
    "w7oEQ43iTE8mWCAdPmizLFRGLdWKOeMHDScm1ynyFgHFsLfe+Lp+irgwXWwMLkSea7ATZ8"
    "QiKdDZWJdqiDCAPYC3P08KuzyGATIVvM7tN89zpcsVvaES0ivryI6NEnVCv5TUzQDPIvO8"
    "F3HMmoJZVy6PsrqcijCrENuJ6l7CHX94TLlUQVfi3ZZGWnyLQo2nn+jpeb5+kr6aBH+X9a"
    "NuC46JlfPjZTAaUp9brr8rqLrj585dSSugp0PVpojeUu0/o1rV/bV/2aepNoAOCe5zErbI"
    "wdS2aW8yVWJjUr+huvSm6W83aupM7cwunKsaA3pa5dcLb6kjw6FtKdh1wCrdgtS2sa29I0"
    "ptmwibYxTb93GsfPqcG/vMKR70YmIh7m6wCRibt0BGYFtjzwxVJ6zVPSd5ktjdzjL39/yF"
    "zhC7mgMylioub5BNF/5FRVyZakXBpleqoMWS+g37UuWPhw1vU8TNP0zzmoeYwXaDyn9Mlg"
    "iO8SnjGHbF4H7hJyPb0rQM8PTs9XRCNUO18T6hadaxNHx21P2PBaeh9/RSeOWW16+uZMT2"
    "Exo03MEhlKzfWucF2hMi0Eg5mY8Y8laLIZ6xXkWkPeHXZrJ0mtxO3C0tm1k2RaBSYEfA9v"
    "m9nhKuinSnqQbu5W7Qa3ylQFCu1rlMKgXOM6iVpU8RkVKe2A41JhEv8A+P5k8ZMnqpvIDI"
    "KQiczRKGjIjsEMeQCCMIAeTKnL27pIfq6HvnqjkdJ1dDdv0R6k3dLr6oIXuy14kVktRaBX"
    "J0grEPfpytFEirTU/lJnEufIejiXB6dV5jJvVR42eFqYy+HebjxDC5v8VrBR0r/STtqb2+"
    "d7kLRScDNc/g5Ha8IhrYt0SRctZgftPswSH44ZtUy6IEJvTYkqYdXqLVrZQZvzeccTujHn"
    "qX9RzBGpGzCRpdJRE2tNCTprQWtZC4TdZeMQrJh4L202Qqq9j77ghetvQfbEDBdNEB+yAe"
    "3IZ6nO9Ff3oNPG11gMPjGpseDfSBcbHKUl1O2do2/25hzVtslyqPfTSlXFNqmtFtpq0QEV"
    "+vGurBY2ssfIZXPsbJ1dOeqoR7DnFF9T5LrQ2hKou7CbvsKkkwZXAOllkgbvi71Q5wx+eb"
    "Oqz/jEksbComk1ena80ryabtVoHIs2Xr6g8XKKXebVzkabpeqfV/hOktFacAOkM0Qa6IpA"
    "k5nP98F6OCc0/YO5YVVh7RSzOrtsveyyEi/jGbmYd6rK+LFKDVsk1hrYGhrYMXa9uTCp1z"
    "UWZwh7lPehCSNxgI1NiacIhqoCa0yqgVUAu0TQ3QzXiFLDqtiAHZfazmZGAmUHOqKhyxEN"
    "2iJUvrL6axHibNgsh16GUK/srq3sgm2qo0EfXVvqlbS4uuhiZai0Ra4yVIi41LJstHVp2M"
    "u4o75CxT8TCwl/243qx6CfXm1Uu7SjxBu7wo6S3vTL7Sg43WptqNotEeUDwlRiIEwlJtwI"
    "IYgMMuDwIcztCkSqFoDNY/ArHod//TaHHhs6Dv8QsX0cFePUdvMKZb6ylYnIMinL0tambG"
    "YzbRrS+cq+uXxlOkWWTpHVI4wjYxuH0NzIShcT9g/t5jcPF8HJXH568aq4yo6UodMBLdUt"
    "SNJmj8mYX6Q2USwpyLV6qWvqJa04rra39VdxHEpK9SIJskQ9Mro1F5cTSn416y5kqXSExv"
    "oIjbSIvWWERtqDdM9ArhqhkZtg64sDpNK+bx3/Ukw8v197RFWQs7tjpyoEZG0VKi/qvDFj"
    "hSt10NQIrSjVNIHDWBv3HQOPB4QCm0+koMQoZo8HwKNAKDLYnDr8D/l3+CJVbqrNO3skj+"
    "QzcuWzYzBGE8jFX1nn1CfMH4tBjxFwOIwi9ZWNGUq/QvpFMDDlT8CfRBd/fuQDYnApyqry"
    "Rh59JPJtcPron56i98DmI+VPPMAwF5ImwavG8Am5S/kn43wADnIZHyeHjgILPyFWroRM73"
    "vpKLXw+wrKSK10bFPpGHGhgGw1nWOKvMvaLnUygGTsL6800DJNOfT9lWn05VvXPNsHZLVY"
    "81JijY7rrwPvlnH9uxRoUu5ECmkm62y0qsxZpl09KcaxIL/OR+IF/6ITMBqNoSWmzWgEMO"
    "P3+QVcsuCa79vixoQ9BixkClcFPhgPsjXCTXPvWCtMyATEHPMvcSpiKc2KvIHCWqXlipeU"
    "K77p0jDJat68OkzDIYThEqwx01MU7d2D9iWb1TNmWOU1WZ5DNibQYCrttxKgTa23aWJtu+"
    "2y7dbxxxae1E+omqfTKVVzO37R6ydzG6oBdZ6ufz4/7ytA/b4U6fd5oEWy341UdxlCrbnr"
    "ykZWRXNnoelGp1VCps+pLp9TUba6+idVkbKRDbTfR5VQr9TTgScUWkur3Xq0/rsTW/9W+u"
    "87vmnfXX18OChsDU1gG3bTV1yT7XDzZLZxhlbDhiqRQadpTUUIPW8fNnsvCrFcPvc4bFYn"
    "sy0BqZalKb9Cucg4VmTLiiC9JeiB8v80uki7KWqsnn0LaPF90HAgWzEBq6P1m+zuc9hbD/"
    "GaUTqzkBHCRsf/QhNVSZLawP0s+w3gu4177QmANc3A8ZJTGIHTy7HcBOymW1UwAE9djIgJ"
    "FnMKAn2TCDTn/APe3KX+bM7/GViVv2MAk2fsIWBh8qSy827alXBh/cSvFIASaynrrMLIg5"
    "SghXB+ldZg4fx6KBxXY/OZMCRDsoyMxOJdDIwR7wEdyWFg9kiEr6qgD8jEnzZD1vQH+WMw"
    "ZD6eVKeYgWBaAX6qcMwY5eMJv00YqMmSEvQd7zmCGkAP2JR5fDgT3h4SU/Yd1GRk4AktOR"
    "R8qMKZF7h0AWYUUD9oLj407LxiNdnEnp3oB3UofqvWa63R/fY0uloH1bQOKryt1tRB5ag0"
    "sgpkg/OkHq4ZmmZQ3fszYJVeT+udmtA7qfaDBmDtZXK2PLi5nXB7b9b8BlJkRCTUtcKGF9"
    "0+qjIhs21WYMFWTsIpjaBCPszqC8slxKDAM4obVst6Rp+RyOAXZCKTXYDQBfAE3NEFl4tc"
    "xMW1Zy7O+I64wnKRRzrscjjMkjRn2/ep9ALOekFjE9kO9RCZLA0uiqmym0X+wUmolBaoWh"
    "WonrBqt6nmDBzR7l2A4bX0af9bOPwXdgCWnvU1ZnbcXl/AVUUrgl3MgFNPdZ9Z51Sd0Gl0"
    "lYIjZLSm001E0WLAwMGu4MwWvDk9rbAT8FblBW/Es1zxcVkt3LAxoXWmb55MJ9QpTt78da"
    "TGLFaQ9s/5dgfeYzp2/ltwydQK2uaD5CM5qm6YfI5Oo6u8xXC5liFWV/2dodInbBFYLidO"
    "p/VQTZNoSBXxjIGLVT1Qs0Qa1rU2hazeSqvAqyR0yJ00660M2nDTuOFG7p4NYHof9bNfu0"
    "JVTNOHTEkyRcWe2wCu1R1k9xTZ7ElTAdvoFtXMpK3upd2pqK3qdsbMlbNTeUCjqa0wh6Vm"
    "fbktLLXI1trByoEtsUKlklmqMs58SeUxQV8dzGVhbXpqPxMN9V1V4pOKmWhi6r0zP4Xr4z"
    "7+gpfPculhT1UWo1wjGhN0Gf0uKfbrJ3vYIslDt/HdwfStGwuu05VU1+LvYcYwzJiPIq43"
    "sldvnC6s+ckefNwGRpUMobapdNqmkrqW1uRyllInM+kyl11kImRvtJhzpJrPe8HnZ6xw9a"
    "p2kOb76LADgvIkvZPj/zUY/Av73Mk9cmm4yBYfvsnyU/egV2GXV+EzxZsxO0Ooedx1Hhv1"
    "3RRzZB3eW7uk05ACxQZo5+k03NVUSNB2IJ6Rur5WGSrtDaDIyaYd2Jr2tQ1UDeNlPVjzZH"
    "qyat9AXZ6oH8jG8mvdTaFIqLeFCh5tujxRw+WJtC/bTn3ZtA9mKz6YgTDQyNxNutqvrbf6"
    "9M1ITpW82+KjqgGEe+6VWTzXKyAcSwga33X45oWpTrkPDn2P2jD89IIHYerp8SonQphtVy"
    "mfBgd3JiraiWSBUBTzxkTYKpiHHAYOR6OkT3Yin4p6xJiMRse8DZ9inIrJpId/vb+9OVLn"
    "19jBO6qkJwxfK5ojIjAytU9juz6N8v8LsJZrQqP2ffTyGlRRgfJW5a4vg4IK1EUT7NRCOK"
    "Hon5b5fFAB4fNBKcDiUc6Rjn8of30BX7EPlXjSxRR5wxieeOB/wMJsD6XzFbgKKDLWsAjP"
    "w0/D3/NQf7y+vcibuUQHF3kNtNj+68AeE2yFetd2kLZhTx2YlT1HE5IebtqDKt6jg3Lv0U"
    "HBezS6iBQgvqDUQpCUuFckVDmUx5xsVzDHv7Q7tS9ub68zU/vi6iEH8C+fLi75YSlx541w"
    "cIlXKVmZbyPDLnU2r+JnlOmiRa/d4M0H9RhQ4mskevoUfsILOxuxBfYmcy6JcRjr+54Uqb"
    "UDSpcdUBJ+TadbsTsm1/zuMr91jqPyXbW/OenDpKgbcD1LqbneFa4rFnuhDk/7fkId27gb"
    "d7wKt8C6LgEFOg2udmXRvhZduNTtu69FxzaFnbhaJNuntqKuBTZ/1NQ2o6Z1YS61LHv7Aq"
    "WXcUc92ihyQefIMSIHjC3R6p+nSr0ypTVN86nJpTDNZ6deuWkeZdtVMs2HpQdnlGMSly4U"
    "+r3EXn6c1O6LjOyynobaDr9Nh6I24mgk/xY5n0cjIJBgssCg/JX/BT0QfCeShQdtcPgYVp"
    "r7YL8aPPIxPfKpw78bPyPxy4fB6eDN92dn35+Kh/wNwjzpu2LI4aPB96fvHg+OghqJYTFE"
    "PnldcJgecjyqI1EXcSHGYcMnPjgYfcQjkaObilBw4C2wKI9I+ScuKFhQ94njAtgEEmG7E0"
    "UUg/qJ8luSEpCyKKR4Ul7wI+uAEQ9rZcYlk/cisi0dgzx9umQ77wm5m5QEucCzb8WN4f1g"
    "cH7+dnB6/ubd61dv375+dxrfbIuPVl1xL65+Frfc47Rcvd7ZIWF3gQnl9rMMUQ8taO+r5P"
    "t4X57v430h38ce5l9ZQOyFXgHbmnKS82aLHCxV/CTOyv0kzgp+EuJ6UmfWR+21D8p6H5Tw"
    "fCigu1qvmlBpe0l3VKhFzbmFIEPG5ultVPSa453nuFrZUL5hZoj6t2s2n6UtdV+uuaKylD"
    "20SPVpMU0xwWy+EZ9zpHrT7DKfE8G4nvmmQKcNOCq7Y6hoqGl1zFJpZNebxrL6nS0tDdmo"
    "oD0Duqq9obCAK5hzUmqzbY1kqa56CnBuFdct3p3VATRmx7kPFQQ9AT0r0CMLPyMXq6o+1E"
    "Hrx6Cf5d7eTF7KjiMn10pbTjT9qthzjEiZtd6oM5Qhj9IKYYIpFQGRgZFB9PMBLFzseYgA"
    "TKS5g/HRcVggYcJiQokIgpS2DflQdGRi87hg6NnFSx6JCN2M7C/IBYdxj8ey1RH/PwoIDU"
    "hkofSUrUUOI35bYE4pN6JkTWUS3bz9RFtAOmkBaVUN3LW9f9d6YOp7E1ovnDZF0kOIm08l"
    "33o9746dy7uewvJM2khVoxVyx/uhqEndi+qexQXSPmkUWjiZV+gdsleqLYXiXnrbHefE4s"
    "JkrCsY71KUiT34FEJM2ruvXHxJJ75qtt5cwdMp7Q4eel/oLCw6C8sL3Rl3kYVlDz2STBdO"
    "vYN6kCv9kaLtpksVoaBvYsSh5j1aHnIVnClPJKKibT+nyMGfpj4J9DFjnw8EE3YiXvvnmi"
    "xr4gq6k0wjjs/mhoe+Ku4j5ftShqjFxbIr0FvIkR9DZljYxgq0721oWaUnrIK8vUv54HS3"
    "5+354O2b+KgV/1h1yt5/Gl5fFy2nUcHn2gVDC4T90x/sZEJHuD1DC5vYWxomXCo2+NXTur"
    "STHsXNNjG7xb2dhKJD1QM0TdONg1O8rzcHZ2g8XBoOtfCkxIdw/aVT0U2LByqKzJbb3j4j"
    "E+jn+CteOLlROPsN6poqB4S1yyYh1Gun8bVjI8bgDJXcOx/4r2re5Ol6cPVcpXK+/P1hNf"
    "Sxxvn69ubnqHmeH7l76Jx6QuFlIaVaeMWdP0/Yw3vS69dV7kmvX5ffk8SzLODChs+g4/BJ"
    "azsWR6YO6EriHsz6LO6vK8VBvV4RCPW6GAlVgM6wIJn5fPvYigGZXnrHieZVQHNqmdT3DA"
    "e5E6XVY7WAoCBvT+7dA7GXiZx8vrWRMTdPqx3vu2zP5fKDu1lmtyyl5nKXuazDaL4NPuvs"
    "nOWn437madTZOb9FrisWeyHMwHGp6I0ZEy5M1HbGUlH3SDveiqO0gheRKmljdmQ70BzZmi"
    "ObiOdK4v4pphrWjceomXiGWD3Lf5G0f3A372+d2sTR5GmjG0BJF/qa352Tv3jhSwXN1g3J"
    "UZDqlVYhSZPcl5jBNlA25mm1prEziR+6NoubzvvQegL/zsl/OoP//oCrM/jrDP4dDBXqeA"
    "b/fYVVp/B/4RT+6mtYA/jWSly0pyBXzFtUJbFO6K28ZbaYX4Ne+oP4S+fU2Zd9dadJdWK8"
    "FJGoaSzLI1HNdKtKZRFCFTjwqKxdEGfnl/8K/Wh/yCSriaJdj0GU7eo4anikrpTQ8DtE8Y"
    "SHORI1FxACLpoiVwSZMTVZnFvnCEAXAUI9kUBH7LHgCS1ZlLpHxHuOIUOP5NDGM1fObHD2"
    "6ugDgCDq9jsGGIEOm/M+ROYfWRPBxpYl2rp0ITsT3ySiEFGQz0ek+kFwMhcv+449Eqn5E4"
    "UV4moKQakHi9InBnxHElh08hQUg4i/zhQvSMpJiH+EyYf4O8bU9x7JHFrTIDFQOEg+XqE+"
    "BIej0eXvn6+HVzdgeDO8/vs/Lkcj4f2da3t1c3959/CDYIx4kkCIeed8BlFgYtfDfCjJV0"
    "eN5OcfnQDBFz49LTwJEHxCyGFB+QrMlxKC5nHUv6gA8Ugc6M1ZAEGwowcJkyCIprL8VIeK"
    "hQmg9wGMRhZdQstbnvDXzhD/kkMYD+PoWNTViEu7nDDkPuMJOgm6jmu+cCIB82iUHCyFts"
    "kj8Qo+YOxy7kU9B3yNphY7igYveSZmwhS7zDsBd/yLRT0MgjhshMqPGaM539VkU2yyD+IP"
    "3rMFsQ1EfY+A8clUhmHbCbUdykQuKIgtMX/kHJjznxIu8Hk1kyVIGJjDZ1F/g1DOO9MUWm"
    "cBlMQsgJv3Z2NPJKjCFqdIpjbvZIxkURP4hDiLIQEWgs98rvBDL3jvUVnCqULAehKQS0Tk"
    "G/SEE6anK2+8tPGuPMA93GfVeu71wTAp8i6HvKvjr5Oxv7zX7R4GwjuImA2V5ojuO50KhQ"
    "82r9oRkmk6bY9IAZo/Egq4rjanKsi1KbXLplRdn+Ob5Liuz7Hj+hw61eKO65989ZDLReCa"
    "4ZY5sv4hvZNgS+G5sUmETEKmj4QuHwmhYmcjB7o8reZ0lzlNuTy4EZszhJrHXebxxMIbOs"
    "NmKTWXO81lHerWs6CnKqFukQ2irldjhkq7iOkaYS0i++Ip0zt2CnUiY3o6QfbWfnpJV3s2"
    "1VU+JdEAcs56mR004+x0cwuGHx+ubm90mbZtEF5Rp60E4ZfL+t+xHaUyyKuz/qdgLvfb26"
    "W31W/Q4mP5DFmwueX8rVJPj1d5XC1kO8OJGq51unqQri8ICAph9RQ+GfYYuWyOnR8AQy6G"
    "VuDzQYX3BZHlv4RRfYYC9x/hCyKJMaf3vaLL1U7esN7Xo5Y7x7fiy7GzMgQBGw3iC87WUU"
    "oXCJvxD3hZsHes/+dS0pxvY6FTmyHXTR3My+i77CDTGfDj21DoRloHeBVt7xL+7SQ1eJCs"
    "xvDgrJ4QlaXblYha2Fx27OzScj4NnWNo3e2z6+q1SlpVlzNBfKzBcCgt1GF1kboVHXqb53"
    "qfmK1V6OWbbH9V6InkVTfOOkfXzEm69yJRQclYJebPRTMsBiLjPBTXmRohbUIhcJfqbg9X"
    "W43QNtU8LuJ3S9AD5f+pHMSe7mqvZnD1IPbc6q0Qr7qVLqswLRUaLdXULddrCf2P4eabr9"
    "VuDYGJRBRVEGIkQr6EfkxEjEmFktA6LaAM5QKiHBZYcLkYYC9UP7GiMquJDhW6qy8HQbeG"
    "hccudEXwthDQOdxSGkxr9f5ZiGkKCnlJIZ4/+1JsrdVgbanBVnKxqpZgZSc91NGcDaokI+"
    "StVtTtLCYkTBZFDeizVD3EeifKmVj0g2wz3ytlB9oFS8uPWn7slvyoNYF947pisRcSsKQu"
    "lPXUBkVC7SS23j0pZ8Pf0rcj6zmwZ0hXlXCLE61uSqZdunb8TOnMQgEjbsf/QlJiLQjEil"
    "bHq0TimWxvhJ9OE4oKUnGiEfiOgeDFIHgzCNOZgKDDY+CiiahbaQa+GAsEwvNbSLVcBA6I"
    "VYJy4+8QiXauuGiNvmLmiSQ0wiFEpmex4RMK8pQEL+UdQi5xc6BEdpfMuz/EqUyiPEBSan"
    "8kY2iJhQSCg0okLhEJgkajYIx8Vo1GJ1FXJuUNROoeD1kW8Fkg5sPYSyWYeSaYutQG8JE4"
    "fF2iH3iDV6evgh/FWIefr/hAbfocjt2lC+3b0kGhPp4BdSTJDFHvfFp2IrJrkaJvl8sqIg"
    "VbinRim0TYpgm1sqA78oM2O3bI7KitaHtrRRsiF0/mKlEhfLJSPIBJm3UCQTlU+iraravo"
    "M5+AyjzN5RfRFEkf7Rm7SPkhFlUNhMPmPUT3rJK16GyFteisaC3ib/SUYUt/vb+9KbnfJy"
    "T5ix6eeOB/wMJsHxWJK8AVYGSudxGmh5+Gv+fh/nh9e5G/t4kOLra9K2x7mP3x/5vfwcg="
)

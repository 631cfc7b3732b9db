from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    # SQLite cannot add a NOT NULL foreign key to a filled table: rebuild it.
    return """
        CREATE TABLE "channel_opt_out_new" (
            "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            "channel" VARCHAR(16) NOT NULL /* one of models.enums.Channel */,
            "created_at" TIMESTAMP NOT NULL,
            "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
            "merchant_id" INT NOT NULL REFERENCES "merchant" ("id") ON DELETE CASCADE
        );
        -- A customer-wide opt-out becomes one for every shop the customer holds a card at,
        -- so nobody who said no gets a message they would not have got before.
        INSERT INTO "channel_opt_out_new" ("channel", "created_at", "customer_id", "merchant_id")
            SELECT DISTINCT o."channel", o."created_at", o."customer_id", k."merchant_id"
            FROM "channel_opt_out" o
            JOIN "membership" m ON m."customer_id" = o."customer_id"
            JOIN "card" k ON k."id" = m."card_id";
        DROP TABLE "channel_opt_out";
        ALTER TABLE "channel_opt_out_new" RENAME TO "channel_opt_out";
        CREATE UNIQUE INDEX "uid_channel_opt_custome_a767bc" ON "channel_opt_out" ("customer_id", "merchant_id", "channel");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE "channel_opt_out_old" (
            "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            "channel" VARCHAR(16) NOT NULL /* one of models.enums.Channel */,
            "created_at" TIMESTAMP NOT NULL,
            "customer_id" INT NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
            CONSTRAINT "uid_channel_opt_custome_674aab" UNIQUE ("customer_id", "channel")
        );
        INSERT INTO "channel_opt_out_old" ("channel", "created_at", "customer_id")
            SELECT "channel", MIN("created_at"), "customer_id" FROM "channel_opt_out"
            GROUP BY "customer_id", "channel";
        DROP TABLE "channel_opt_out";
        ALTER TABLE "channel_opt_out_old" RENAME TO "channel_opt_out";"""


MODELS_STATE = (
    "eJztXftz47YR/lcw6g+9zLg3Pvl5Saczss93dWNbN7bzaM8ZGiIhCTFJsCQon9re/16A7w"
    "dIkRJFUQwymUQmsSD5LR673y6A/w4MoiHdeXuLbHUOTTr4Hvx3YEIDsR+5ewdgAC0rvsMv"
    "UDjR/cLJUhOH2lDltU2h7iB2SUOOamOLYmKyq6ar6/wiUVlBbM7iS66J/+0ihZIZonNksx"
    "tffmOXsamhr8gJ/7RelClGupZ6XazxZ3vXFbq0vGvXJv3oFeRPmygq0V3DjAtbSzonZlQa"
    "+68/QyayIUW8emq7/PX52wVfGn6R/6ZxEf8VEzIamkJXp4nPnSjxtYGi3I0flYerR0UZ1A"
    "BIJSYHl72q4339jL/CX4bvjs+Oz49Oj89ZEe81oytn3/xHx8D4gh48d4+Db959SKFfwsM4"
    "BtX7fw7Wyzm0xbiG5TPIslfOIhviWAZteCHGNm5PbYBrwK+KjswZnbM/3w0PS6D8eXR/+f"
    "fR/RtW6jv+SMI6gN8z7oJbQ/8exzvGl2ID/YeYtTBOyrSH8+Cnx8tBK0CfHlfA+fS4EGZ+"
    "K41y8MKKDs2ZC2e10BbJtog6MtsB/bwC5ueFkJ9nEZ9A9WVmE9fUOJTEroO4SLZFxP/07u"
    "Pw/dFZO7CXjc4h7GeFsJ9lYZ8SG60Lu0i2Tdg/ev/sJexQVZFJ60OelWsV7pP3V4cXewm3"
    "TmZEsdjTc1BfYBPaSzHYSakM0JMlRU4FqAPLriv2SQmqFzdjT7eG4/xbD2C+uL4b3f/zze"
    "3oVw9qYxncuhnffQrLW8ShM9uraHDxz8erUQZ61UYcHgXSPPgf2B1um4jhT0tmFKAFom/D"
    "H/toLbIP1MamvgwaSol2Hq9vrx4eR7efUyr6MHq84neGKe2EV9+cZjpIVAn45frx74D/Cf"
    "41vrvKqjEq9/ivAX8n6FKimORVgVrCWwmvhqh9437W9CXhFPALfGp+hbampO7EzcOhcDoV"
    "dMtA7OOP90iHHrD5NhC4mw9hFXum/m9hgw+vxs0g4aOaCxwMNRsidO3V1FecVAbFhihdsn"
    "J9hYdYVCEu3RShOTRNpI8tOnZzxEdfoFoQV50je0OofvZr6StIKjQsiGfmxl3Or6ZPMPFZ"
    "jwxJ0TyYv2UMjewVaMKZ90n82fxJqalOQLlGc2Ax3xrNtM2SrV9SRC5FOnMJoaG4DrIVrA"
    "1+k2TsDsnYnDryvRXPClEWSa/GfA/6bgD7++Hw6OhseHh0en5yfHZ2cn4Y4Z+/VaaIi+tP"
    "XBcpYztUToJTxI6lw6VSlyHPyrXo87fj7L8bVuESWakSnjzHJ9pEL0D5ynQND+lr9k7QVF"
    "EO8VC2yzGJATERIFMQTACIfVQwDdwHb19bDadVtJB1KhNKOM2zXBQvBFq4IOwVoVlEcYVC"
    "Wc6FSW0L/3DQb5lzGY9vUg79xXVmFLn76fbiiqHugc4KcQ9OOLhImqW4lfeLZkkNcsggi7"
    "W0npZsQOv7w3R2SckhJqVaDg1soQFXaL1lpPpkuG1kL+doyjzQeZQ/EhsxP/VHtMxZDmLP"
    "NpkDs2cgF3m27LINXyPXLdvAGAbsy5E/QV2OHi5HH64G34o54K37yQHhWeQtx3zoCp9ZwX"
    "HJVa7zYAQchq2O/uLyu+irhTnWQMfmC6BzSIEBX5ADXucELZANiIVMB2AKvCdxe4751SBE"
    "9m3WjNtC9TJ/qlsuu/Rbdu+3UPLiZ9FUTrAKBZpBfrcNfMupVdJTKYa+v56KN1UhZw2tpy"
    "V7qPU90XIlV4WZJev07ISYdEU7r9/JUolCA3VjCgUVrOWddkzPu4kqhJMiw7SWPZ6T65EK"
    "NjTOJfOyHWQl89Im8yIeJBoAuGq+XcfGhqrg5gbGFLzsLcDdTzc3u2K2vCQ1AaUVJq8Vc1"
    "lqWKIKh0WhYQHLJnyK/h6woU1HKgXPz94NRzER0pD2/OwXdA7ADFEAQZA6BabEZmVt5H0u"
    "RV/p87OQytrOUySj1S1GS64I3O6KwFRvyQP9YEBdL2zEOeE+WStHw7PTqDXzP8oa8sPt6O"
    "YmbwImxpc6jTgj1sO2PDys0pZZqcK27N1Lox2M7coC6ljDdKlocCnIMS1v04WVtNe2jw67"
    "37K5NoPubzG0VAZpXaQLqmgP55Puw+zhwzAjukZeTcVB7FGipQrlQ7Swgjbb85YbdGMu++"
    "8EM0TqBnDSUjKKszKKI1P7ZGpfByyS/gbMJPUoqccOsmMbJn0lYTcmyHbm2NpwDdltVFGP"
    "YJcrEuWKxL1YkXjpOpQYHsua56TDewelvHSylNwHbp9m1YMS1neKbYfWXuuWllrLD+tY2K"
    "mFpW46XAPplJAEuiLQ9XeD23gXuE7D3PAmcMiAWEBCFqMbCfQP2uFJFdKGlSrm109ytI2H"
    "l7JANmaVilK3yuibvHCLNE50ZW95nAm26ZzHIuqy7CnBHqVpNcGu+9gYxGR9Zi1YI1EJrA"
    "DYJYKC/Qmr4BpKSlglmfuHJ3OZGtZLjE8JytT4rqXG52jlKswn1pBJMcWb7up37dez3MOu"
    "XonRk3vWVYZKkumVoWKfibkLs2nv++DX06vet02iOBqtBERxciQrJopxstTKJOaxyRe6Ow"
    "5zp5ENoKoS16R84TEEIeMM3jwGq5AA3+EMYO0A/Iwnwa9f5pA6I8tiH8L7xHf5DObtPEK4"
    "x57FmuOU2AYvgL5SZJtQl9vr7ZrjTmolz1itXq+flO9yhqhwzf7nxMvvfsl+slMItVG0uD"
    "gl1mUldCb1iw9kdaMNSZn+UbXNYxxGDRiE2lrhhkiwf2g3P3jYCKpz79PzJmEZIZ6SkymN"
    "MqVRsmBlLFhoFNdcqJ6WkimNq1Makyk1G6Y0JnN49gzkygt+0w2sS/vYpckrUYpVlt0qyb"
    "PyiyoBrVbNix5FnuyfHfA0MAnzAWzkbySHnacBoARw58CZE4v98H4HDxKt+F2/sifzyfzM"
    "3GZ+7wBMkAqZSentZueajjvhLz1BwGIw8gXFBnZQ8hFe5NoBU3YH/JVX8bcn9kIOXPLN81"
    "ghSp5M72lw+uQeHqL3wGBvyu5Q4GBmeKj+oybwBdlL76fD9AAsZDvsPRl0BOj4BTnFDnyy"
    "SyYzjoPvk478Th35UAtCQ3u1H58Q77IHKXTjL+N3370hLu1CaRdKu1DuX9RNZKXF3abFLW"
    "rHDcAr12jt0qFJxJcF3kw6+lzsyhjpcvW8GEuHzJwP3Qv2RW/B8/ME6rzZPD8D7DB7/hUu"
    "Hd/Mdw1uMWHqAB1pPMzHXoZCZ4Vz09wzVjoT3rZODPMv0QZPXhiS78bAGWDpV+zSr2CDEX"
    "UFiQbV3IpYusUjn+I1+pt6FnFvfog+ZOeHzOsh0hVbekKiPTtoX/baWGAHi/KzinfmiQQk"
    "mFkwvQVZHkBruL85YZkr2rVc0aSuLXeiY7X+NjVZOblRzcpIesoaqgF1Vq5/cfT3FaB+X4"
    "j0+yzQfAultai7lKBk7roykFVh7nQ0XWu2isXkPNXleYq7lDVZ2VhC8oaizBfJdUtGtnuU"
    "YRkje8+Gkfvry8dBbmhoAtugmr7iGg+H62+VhRbI3HQZ1APfRPSKV9QjtNNkhNwlq4FVPT"
    "Ger1BnrVWxoFMC6dhEj4T9ZzWwv3jVfQ5q20uTrrz9zQiZ6UgJYCOT35EqMIzrA/fJq9eH"
    "bxzV2hMAa4aPEqOYIHyUHuNKT3U1LAVFBautJSMLZKBwfZd/dEVADr8F9+TVAdBGwPSOXX"
    "Ut7r5ogHihHDbkawWLxzavUxgfSsfHsIYMi1BkqkvlBS1zIaFE5ChOovlNBoraDBS9sM9a"
    "N0wUyu5d6tmNF+38MXj9HYeGvJhrjZYdlZfOmGivI38UU+CUilywVeG2WE6iK0CXDdMOqR"
    "U4iCVaDCXXDCKvSWNv5RyS7JxZA2qBaP9iB/JYaMkoS0a5E5NBbOzXzfLNyEl0Beg6/LDL"
    "esAmRXq0+11zWUPB8Vy1QE0LSVgrHGuR5AA2Tpru4bZQB7m06cyAWOFcXRkEaSIIkhtwG8"
    "C056cUJyeZggOKBWNuA7hWD5DsKbLpmaZThz+H2Au474RaionvRCto9qSNL+k1zaKFB18S"
    "6ezoq4WZTyF55vYXJBDXFuW/V1yQEEnvHdcc9I+H6At2v9iZYiracaiYWYoEuox+l1i8+j"
    "m/G+T6dhvfLTTfusnrMmu9Ohu6hwvHsOO4KNR6I2P12qvGmm/s/setQU6nBCU33WluOmGW"
    "1tRyWlLmtHdZyzbSEDLW6swZUannvdDzAgvyOqpNpNk6OhzIFc6k9977/+y//K7PduNj5F"
    "KxkcE/fK3DUIQ1yF7Y5V64IHg9ZacEpY67rmOlfk5SRqzDY2unOI3ggOq6SRQpKRk/FazM"
    "k5kpMjNlr9CVe/ttK702sPony3rg5gXlQFshUUXu7dfw3n4yRWWrKSoytaqV1CrfYm2k7c"
    "ZV7dfQW735psz7CglBiamqAYR7nmyVn9c7lRYUtW/RARGJtl9yNkSyVKOZQbksoOR0H8Qp"
    "ZQ5QqzlAdc9u2+jctq7NWJlA8bAKQ8NKFYeKhzmGZg9j95oNp3RQD3LxaRLBQNKl2D10Nc"
    "yPcGE16lS4Qcg/HsZ34rYvks2S0Vil4H9Ax87W/I7BX6euqXLcwcRlL4JN5y1/7N9qqqwJ"
    "dppjlSKmQ+jf3I5+zWrl8mZ8kWWceQUXGRVZrjNXKPoqcALLNsNMCMllrVXI4wgyRccGFq"
    "D9YEBdL5xhBeLtEUjDLW/kezQ8O42mWv5H2Sz7cDu6uSle2lQ7tTMnKKMhlRp0iNsC6ljD"
    "dKlocCkY4MubdWElPWLvmmjdwTFXtSbQpEw3Jk7+vN5MnMz0wgtkLxWL6Fgt2KdgtdEpqK"
    "bFCZXvb7Rswvr8EHzG5+grdpzzEp25aGuixVcru00sKPtO433HQI7DT8oW252P7GpRCC0t"
    "1wPTsywb5erXx3Loo2SUm/Hdp7B4Vh8ZO3ROKCe8dCQMsJXY/FnBHtpJJydV7KSTk2I7id"
    "9LAz4nukZcqljIVpEo1lZuIQnEe3OARxOWkcPsR83V10p0y8rKXLcu57oxA8peb5uitKTU"
    "cpe1PMUmduZrqTkjKvXcZT3LTceKZ8f+nloSbKW7htbTklLrXdG6oLPn9ue2bMJrcxTmW4"
    "uTJi/wrJj6Fkj3iB58PxweHZ0ND49Oz0+Oz85Ozg8jkzh/q8xAvrj+xM3jlJLz9nKEZuhL"
    "r62OdAVSIxtrRIfmzGWI1vLKRcL988wbJgcj1DQ8Q0690GdetH9wHw0r4H00LASc3ypAnL"
    "nc6staFkBBFdLM787MLzDz5dKephdLBe5P3RUSObkezdhyZU8nkZVLT+TSky7DWmvpSTx+"
    "NgBsz7P2c3NN7aT93R0utyeQi3JRMNoQpTCLo0d9vt4ZfDWXf0R4CZZ/JLEsXv6hJUtVOw"
    "3Np10AJYAn4lisaxATeP8iECSv/AB8tfC74E24xOQAhGeNHoQFvys4Ha35Zwi3rk0ufkme"
    "GhtIlu5ka/JkWEgpMixafzvbMoarZ6tZWqGzite8hLrMqaBaflxCvMurYMRLMuJ33/1ajD"
    "1cG2MhU+OQNaCKcDTu1OoYf/CqnTSdlJO5QAlAs1NCDtdyglEgLsnFLpOLOoIOUtbfO1Qk"
    "LzXeeY2LffDikE1KqH/Bmua3wG79kMs/GL5snkG2CfWaGdgZsf4hvZX8aweZ6xgDCTE5JX"
    "R5SiDMS1grnpwSlDruso5VHa+ZNJCWlFrutJZlSnDPkkOrpATvblfdzim56UyRgFGviWxa"
    "SiK7OplhNxvmdQ3kJnbME0feE5GhTeFNVNVXeNP9VwzvbnbL+wXq7E0+Q8fvW5mAaeLuQV"
    "nI9NUrp1hhwZVR08c58sOYTIIHBiCIN8X8ATjIxlAH0NSAd0waMPmmCF7wcsblVAToPBDG"
    "TN6l+ZjpVp6weks/uXlfm5v3+WpUTJdrtg5vkxOUp/CtpMiYyThHJsWql7Gi1D7xsEi+yz"
    "HkzoAfzdBBHkgd4EWyPdimo4UNtfwVjgqFszzeZekqablt2eu5wWXL8eCWF2HJhamrDM+u"
    "cw2SYpIUU4HWO3Yazt5byTkqpEoet41mmL8If+EN05S5j3ifqG4Pe1uNdOVqp1+MTfRI2H"
    "8qL5rZ5OyLnbbg6otmKp180Ry9kWuWApJD1HSLqQ5OCSh2tvhKwmMENLTAHq0AKcC8Meg6"
    "0gD0OQZORLxChia/4Dpz8MpcJYBpwEg4eX6jiQqFCeB+tYqOJza0+WIR7rMxuD0HIUn05D"
    "PB/R2RPb9OnmLQKhFSqrSqfmJpJT300t8Nq+xhwEqVnHeQ38cg7gM1oE9L9RDr7Zz+KV2H"
    "P6DrIHmBvmldwBPk1lMmLI96HmNeUMbPV8fPMxG9DWO86TjiniFd1bnJN7QuBXo/ETLTka"
    "+I8eR35DkrOV9IUKrUG5p55ZXg00ksUcEhip3BPzvAfzDwnwx0soQ6XQK/wgNgI5Xv/a75"
    "kdlXBIL5mzs0zPvxhUU+UuPPeDKfzGvmVaGvzAHkZyHx8PArd8EM+IIcL2rsP5RVCJmzxY"
    "Diq3RTz/4ehCGZcFmv57A9mROo844E/InKATPC1/s+P/vvyFrV8/PbsCqNsAImoYAiXQeu"
    "43t4MIpZ+y1PA1ObGAA+mRbrl+gHVuD48Ni/yN919PmavahBFsG72+RVRro76OBFLaCOV5"
    "ES6l2Eeyvum3Qp+mZcVnEpnCUbddfaxjwpKFPZu+M/yIhThyJOMoCytwGUEbKxOhe5CsGd"
    "UvcAxmW2eY6yNEXbNEUXrAHiemuREyJ95La3sUaWd6oaCAfFe4juu0qRg3clkYN3gsgBMa"
    "nw5KeSQ+hikfaPn9uNjdfYQXMb2QqbTmbf/g8QyRd1"
)

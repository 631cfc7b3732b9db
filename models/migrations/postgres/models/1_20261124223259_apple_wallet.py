from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "wallet_pass" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "serial_number" VARCHAR(64) NOT NULL UNIQUE,
    "authentication_token" VARCHAR(64) NOT NULL,
    "campaign_message" VARCHAR(200) NOT NULL,
    "update_tag" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "membership_id" INT NOT NULL UNIQUE REFERENCES "membership" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_wallet_pass_update__76906d" ON "wallet_pass" ("update_tag");
COMMENT ON TABLE "wallet_pass" IS 'The one pass of a membership; serial and token never change once the pass is out.';
        CREATE TABLE IF NOT EXISTS "pass_registration" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "device_library_identifier" VARCHAR(128) NOT NULL,
    "push_token" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "wallet_pass_id" INT NOT NULL REFERENCES "wallet_pass" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_pass_regist_device__3c10d9" UNIQUE ("device_library_identifier", "wallet_pass_id")
);
CREATE INDEX IF NOT EXISTS "idx_pass_regist_push_to_4716d3" ON "pass_registration" ("push_token");
COMMENT ON TABLE "pass_registration" IS 'A device that installed a pass and wants a push when it changes.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "pass_registration";
        DROP TABLE IF EXISTS "wallet_pass";"""


MODELS_STATE = (
    "eJztXW1z2zYS/isc3YdLZ9yMLccvaW9uRnac1K1tZWw1aZvp0BAJSThTJEuCsnW9/PcD+E"
    "4CpAiJoigG/ZAmJJaknsXL7rOLxd+9uaVDw319Cx1tBkzc+0H5u2eCOSR/Ye4dKD1g28kd"
    "egGDsRE0Trcau9gBGn3aBBguJJd06GoOsjGyTHLV9AyDXrQ00hCZ0+SSZ6K/PKhiawrxDD"
    "rkxpc/yWVk6vAFutE/7Sd1gqChZz4X6fTd/nUVL23/2rWJ3/sN6dvGqmYZ3txMGttLPLPM"
    "uDUKPn8KTegADOnjsePRz6dfF/7S6BcFX5o0CT4xJaPDCfAMnPq5YzW51lPVu+FIfbgaqW"
    "pPACDNMim45FNd/9dP6Sd83z96c/bm/Pj0zTlp4n9mfOXsa/DqBJhA0IfnbtT76t8HGAQt"
    "fIwTUP3/M7BezoDDxzVqn0OWfHIe2QjHMmijCwm2SX9qAtw5eFENaE7xjPzzqH9YAuWnwf"
    "3lT4P7V6TVd/SVFhkAwci4C2/1g3sU7wRfjObwv5YphHFapjmce7+OLnuNAH36pgLOp28K"
    "Yaa3siiHH6wawJx6YCqENk+2QdSh2Qzo5xUwPy+E/DyP+BhoT1PH8kydQmk5IojzZBtE/B"
    "9H7/tvj8+agb1sdo5gPyuE/SwP+8Ry4Lqw82SbhP29/99ewg40DZpYHPK8XKNwn7y9OrzY"
    "S7gNa2qpNnk7A/UFMoGz5IOdlsoBPV5i6FaAOrTs2mKflKB6cTP0dTt33b+MEOaL67vB/e"
    "+vbge/+VDPl+Gtm+Hdh6i9bbl46vgP6l38Proa5KDXHEjhUQFmwX9H7lDbhA9/VjKnAD0U"
    "fR39ZR+tRfID9aFpLMOOUqKd0fXt1cNocPsxo6J3g9EVvdPPaCe6+uo0N0Dihyifr0c/Kf"
    "Sfyh/Du6u8GuN2oz969JuAhy3VtJ5VoKe8lehqhNpX6mdNnlJOAb1Al+Zn4Ohq5k7SPVwM"
    "JhPOsAzF3v9yDw3gA8v2gdDdfIgesWfq/xp1+Ohq0g1SPqq5QOFUsyFC1/6TuoqTRqDYEK"
    "VL0q6r8CwsT5tBZ0OEPgVP6SpIGpjbAE3NjftR8JguwUSncqtvFU3u7K15f56/AkziDOvh"
    "u+mbMvM3h0eMJ/ZiEjFePuplEL9k2EkMDeLngLnqudBRkd77UzKMO2QYGXVwjPppIco86d"
    "WY78HYDWF/2+8fH5/1D49Pz0/enJ2dnB/G+LO3yhRxcf2B6iJjQUbKSRFlyLUNsFRFad+8"
    "XIOObDMe7FG/CkFGWpWQvwxJ5lhGAcpXpjf3kb4m3wRMDTKIR7JtJtp7lgkVa6KECwAkPy"
    "pcBu7DrxdWw2kVLeQ9pZQSTlnqBqMFRwsXFvlEYBbxNpFQnkggUtvCP5r0GyYShsObjJd6"
    "cZ2bRe5+vb24Iqj7oJNG1C3hTi6SOyju5d3iDjKTHJxbi7W0npWsQev7Q9+1SckRJqVajg"
    "xsrgFXaL3lpLpkuG1kLzPcGws0i/J7y4HET/0FLhnLge/ZphM79gzkIs+WXHbAc+y65TsY"
    "wYD8chgsUJeDh8vBu6ve12Jic+t+csjiFXnLCcm3wmdWUdJylevcGyguwdaA33v0LnyxEc"
    "VaMZD5pOAZwMocPEFXeZ5ZcAEdxbKh6SoIK/6bqD1H/GolQvZ13ozbwuNlUlC7XHbpt+ze"
    "b8HWU5AaUjlrKBKoB/nddvAt5wtJT6UY+u56Kv5SBd01tJ6V7KDW90TLlVwVYpasM7JTYt"
    "IVbb1+x0s1Dg2IxhQKHrCWd9oyPe8mqhAtigRTIXuckeuQCjY0ziXzsh1kJfPSJPPCnyRq"
    "ALhqElnL5oaq4DITYwZe8hXK3a83N7titvzMKw6lFWVkFXNZWtSiCoeFwdxWbMeiS/QPCp"
    "naDKhh5fHRv+GqJoQ61B8fg4bugTKFWAFKmDqlTCyHtHWg/3MxfMGPj1wqaztvkYxWuxgt"
    "uc1tu9vcMqOFBfphDgyjsBMzwl2yVo77Z6dxb6b/KOvID7eDmxvWBEzNLyKdOCfWwb7cP6"
    "zSl0mrwr7s38uiHc7t6gIYSEd4qepgyckxLe/ThQ9prm8fH7a/Z1NthsPfJmhpBFJRpAse"
    "0RzOJ+2H2ceHYGYZuvVsqi4kr+Ll35dP0dwHNNmft9yha3PZ/2MhgohoACcrJaM4K6M4Mr"
    "VPpva1wCLpbsBMUo+SemwhO7Zh0lca9vkYOu4M2RvuIbuNH9Qh2OWORLkjcS92JF56Lrbm"
    "PsvKctLRvYNSXjrdShY326dV9aCE9Z0gx8XCe92yUmv5YS0LOzWw1c0AayCdEZJAVwRavM"
    "TZxqXNWg1zzZXN4BwgDglZjG4s0D1o+ydVSBvSqphfP2FoGx8vdQEdRB7KS90qo29Y4QZp"
    "nPjK3vI4Y+TgGY1FiLLsGcEOpWnVwa4H2Mwtk4yZtWCNRSWwHGCXEHCK7lXBNZKUsEoy95"
    "snc4ka1kuMzwjK1Pi2pcYztHIV5hPp0MQIo01L1V0Hz1nu4VCvxOhZNlYtD29K6M2AaUJj"
    "aOOh1yViPhcskmR6RajIz0TUhdl09L0LntOp0bdNojierThEcXomKyaKUbrVyiTmoUk3ur"
    "sucaehowBNszwT043HQIkYZ+XVKNyFpNAKZwrSD5RPaBz+7fMMYHdg2+SH0DHxHZvBvJ1X"
    "cGvs2aQ7TixnThvAFwwdExiyvN6uOe60VljGavV+/bR8mzNEuXv2P6Y+fvdb9tODgquNos"
    "3FGbE2K6E1qV90IhONNqRlukfV1o9xFDUgEOprhRtiwe6hXf/k4UCgzfyfzpqEZYR4Rk6m"
    "NMqURsmClbFgkVEsuFE9KyVTGlenNKZTajZMaUzn8OwZyJU3/GY7WJvq2GXJK16KVZ7dKs"
    "mzCpqqIa1WyYsWSrf6kul34eukh7pTDzXSAteCXO2gpsTb7Bpx/dPL5Nt3b2FKg0caPNLg"
    "kQaPNHjKDZ5U/Ilj7WSjU2XnZWfaVSh4EkHyT1exDaCR1cRU6KJCi6a8Vh4fx8Cg3ebxUU"
    "GuAoxnsHT9UrquN6cLD8KuYkCdhgHIx2Dg8sqdbOUdq+0wWvZFGmG7NMLIlIM9Trixmg2W"
    "SDd48EuyU3dTMywZsw/xD9n5+clGhHTFnp6SaG453pcd9wvkIl6WRnF9jlhAgpkH09+W4Q"
    "O0hq/ACMuMsbZljKV1bXtjA2nixSrycrJcxcp4Gq3vsZb7nRGU3ndbxlcV79uAk7Um0URM"
    "Tp9tnj6pZyPIrCQSklXhhWUlXyX5qv3iq+7JNHJ/fTnqMVNDHdh265hzBtdkOly/jgtcQH"
    "PTHP0HWuHuij6oQ2jLEi61p5wneD4Dg/RW1QZuCaRDE44s8sdqYD/7j/sYPm0vTTo+tGJn"
    "5kWDkEO9Z4do6Yl5c1uFccNqefrWAs5hlDsflAUPKbfXyr317CrAgYrpH2nn2dT61hXLp8"
    "HJjKUXJOZv/syC0+7TsQWkw7ltYWhqS/UJLhmi/Uu8FKXiuH9K+r1J+v2J/Kx1yfdIdu+y"
    "H278SNEv4efvmHD341UCPTtuL30JXh2JYBZTwQTzPIhVQYxETqLLQZdM064lRMcmEg0G6A"
    "RDc2sSsVup8Z5fMwWg5oh2b3+DPHJTEqKSEG3FYpAY+6JlmHNyEl0OuuHp6iLApkU6VFmo"
    "vlyM8OgTIVCzQhLWCiXD0xzAhiRzJ0tuHDBlw3MTYoUzCyWHXweHz0y4NWDa8RMg04tMwe"
    "GPnDm3Blyr8/t7imx2pWnVwZoR9hzuO6WWYuI71Qvq3laXPqHC39bPssxJkjB8sRHxKSTP"
    "3Hyat+U5vKziimnesfTecc3h+HiIf8Hu99thhHnVHIqZpVigzei3icUTLUyyUT2SduO7he"
    "4rmhIsc4Grs6F7uB0Hua4HI63XMlevvRen/s4e/Lg1yOmMoOSmW81Np8xSQS1nJWVKdpu1"
    "7EAdwvlagzknKvW8F3peIE5eR7WFNP+MFgdyuSvpvf/9n4KP3/W5OXSOXKoOnNMfvlahee"
    "4T5Chs8yhcWGg9ZWcEpY7brmNVPCcpJ9biubVVnEZ4+KdoEkVGSsZPORvLZGaKzEzZK3Tl"
    "4evbSq8Nrf7xUgxcVlBOtPJsexF7sJ6z7WWKylZTVGRqVSOpVckh9xv33eRR+zX1Vu++Gf"
    "O+QkJQaqmqAeGOJ1ux63qr0oLi/s0rvp3q+yV1t9Otas0MYrKA0st9GKeUOUCN5gCJnouz"
    "0Zk4bVuxcoHifhWGhrQqDhX3GYZmD2P3ugMmuCcGOb+geTiRtCl2DzwdQbqpdIIMzK1v8f"
    "PD8I7f93myeTIaaVj5n2Igd2t+R+9fE8/UKO7K2CMfgkz3NX3tvwVVVgc7TbHKENMR9K9u"
    "B7/ltXJ5M7zIM870ARc5FdmeO1MxfOE4gWUlBlNCcltrFfI4hkw10Bxx0C4/NZ0j3hyB1N"
    "9yedQ6Tk6PcseFUzsZQRkNqdShI9wWwEA6wktVB0vOBF/erQsf0iH2ro7eHZ60IrSApmXa"
    "sXDS93Vm4QxPil6qtmUgraBOwWqjk/OYBhdUGJ1Rvan1GZ13/TH+FTvOeYnPs3J03uarlc"
    "MmEZRjp/axQ4/FpqeQ8u3OEblaFELLynXA9CzLRrn6bVQOfZyMcjO8+xA1z+sjZ4fOLEwJ"
    "LwMKnoXMCHbQTjo5qWInnZwU20n0XhbwmWXolodVGzoa5MXayi0kjnhnjkWowzJyif2oe8"
    "ZaiW55WZnr1uZcN2JAOeuVKcpKSi23WcsTZCJ3tpaac6JSz23Wsyw6Vrw6dvfQjbCU7hpa"
    "z0pKrbdF65zBzpQ3l/m9tWdMh3OgaJokI9chnlWm97YSWZl/KvNP2wyrUP5pMn/WAGzHU/"
    "eYtUY4c293B6TsCeS8gBSCG6IUhXI6NObFzpERzAGN8eLkgKaxLM4B1dOtqh2JEgRCFGz5"
    "Z4TbZGj4x4UHJ4YHEawflUAt9K7yKsozPYgPGj+IGn5XcERK/e/gH0eeyoDNHE0eSJaWsz"
    "NpRgzAGM5tLF7T7gJNv5WU1rf9/vHxWf/w+PT85M3Z2cn5YWzLsbfKjLqL6w/UrjtIu5Kr"
    "E18jXTIqqBYkT4m3ORWWn5eZfPvuEzL3MEHWhqZOIatBFdFs3KoU2WDyEs6cSsvJgGAK0P"
    "ySwOBazjNyxGUgoT3cIkspGxC4UF2/gBhPXmq89Rrn++DF6SsZoe6lrtRfB7Pxk66+MXzJ"
    "OgMdExiCaVg5se4hvZUkLBea6xgDKTG5JLR5SbCIl7BWWDkjKHXcZh1rBtKe1ssYyUhKLb"
    "dayzIvqGMZIlXygnZXWq91Sq47UyRk1AWRzUpJZFcnM+ymak7bQK6jbA4/8p6KDG0Kb+pR"
    "XYU3O3758O6mZM5nYJAv+QjcYGzlAqapuwdlIdNnv51qRw1XRk1HMxiEMYkEDQwAJamM9a"
    "PiQgcBQwGmrvhnpSgm3RnpBy+nVE6DCp6FwojIe5iNmW7lDavr+sgKPk1W8AnUqJoe1awI"
    "b8MIyqN4VlJkxGScQRMjzc9YUYWPPSqSb3MMuTXgxyt0mAciAjxPtgN7dRuoqhFsc1AxmL"
    "J4l6WrZOW2Za8zk8uW48GNZK3I3SmSYpIUU+cpppaVxN97K5mhQqrkcTtwiuiH0A/eME2Z"
    "+oj3qcft4WgTSFeuVgJ7aMKRRf6ovGlmkwLYO+3B1TfNVCp/XR+9wXRLDsnB67rFVAelBF"
    "Qn33wl4TFQdLhAPq0AsIJoZzAMqCsg4BgoEfEMCJr0gufOlGfiKikIh4yEy/IbdTyQmwAe"
    "PFY10NgBDt0sQn02ArfvIKSJHjYTPCiL6Pt1spRxo0RIqdKq+omlD+mgl37Ur1LljLQqKX"
    "rMVDpLjQEB6LNSHcR6O0eASdfhG3QdJC/QNa1zeAJmP2XK8hDzGFlBGT9fHT/PRfQ2jPFm"
    "44h7hnRV54btaG0K9A6gg7RZj+P/hHdKvR6QtNnmqSjSaWjSaVgQVxwJHlWbiHTRSN1Gsj"
    "sdVAIIh807iO5RJRfgqMQFOOK4AJaJuXVcS0pKJyLNF5PeTVCotrLRAjRz/YvZ1/8DHyv6"
    "wg=="
)

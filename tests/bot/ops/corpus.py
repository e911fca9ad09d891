"""Support messages with sensitive values, and look-alikes that must stay untouched.

Every secret below is a published test value (example IBANs, Luhn test cards, the AWS
documentation keys, the jwt.io sample) or made up; none is live.
"""

from __future__ import annotations

from dataclasses import dataclass

JWT_SAMPLE = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
AWS_SECRET_SAMPLE = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass(frozen=True)
class Case:
    """One message and the sensitive values in it, in order of appearance."""

    text: str
    found: tuple[tuple[str, str], ...] = ()
    """`(kind, raw value)` pairs; the value is exactly what becomes `[kind]`."""

    @property
    def expected(self) -> str:
        """The message as redaction must leave it."""
        out = self.text
        for kind, raw in self.found:
            out = out.replace(raw, f"[{kind}]", 1)
        return out


def _one(kind: str, raw: str, text: str) -> Case:
    return Case(text.format(raw), ((kind, raw),))


SENSITIVE: list[Case] = [
    # --- EMAIL ----------------------------------------------------------------
    _one("EMAIL", "jane.doe@example.com", "please reset the password for {} asap"),
    _one("EMAIL", "ops+billing@mail.acme-corp.co.uk", "cc {} on the refund"),
    _one("EMAIL", "JOHN.SMITH@EXAMPLE.ORG", "USER {} CANNOT LOG IN"),
    _one("EMAIL", "first_last-99@sub.domain.io", "my login is {}."),
    _one("EMAIL", "a.b@c-d.example.net", "email me ({}) when it is fixed"),
    _one("EMAIL", "jane@example.com", "reply to <mailto:{}> please"),
    Case(
        "<mailto:bob@example.com|bob@example.com> wrote in",
        (("EMAIL", "bob@example.com"), ("EMAIL", "bob@example.com")),
    ),
    # --- PHONE ----------------------------------------------------------------
    _one("PHONE", "+44 20 7946 0958", "call me on {} after 5pm"),
    _one("PHONE", "+1 (415) 555-0132", "US line {}, ask for Sam"),
    _one("PHONE", "(415) 555-0132", "my cell is {}"),
    _one("PHONE", "+49 30 901820", "the Berlin office {} is closed"),
    _one("PHONE", "+33 1 23 45 67 89", "Paris: {}."),
    _one("PHONE", "+14155550132", "whatsapp {} pls"),
    _one("PHONE", "1-800-555-0199", "the hotline {} keeps hanging up"),
    _one("PHONE", "+44 (0)20 7946 0958", "switchboard {}"),
    _one("PHONE", "+91 98765 43210", "India support: {}"),
    _one("PHONE", "+1 415-555-0132", "Tel: {} ext. 12"),
    Case(
        "reach me at 415-555-0132 or 415.555.0132",
        (("PHONE", "415-555-0132"), ("PHONE", "415.555.0132")),
    ),
    Case(
        "UK mobile 07700 900123, landline 020 7946 0958",
        (("PHONE", "07700 900123"), ("PHONE", "020 7946 0958")),
    ),
    # --- CARD -----------------------------------------------------------------
    _one("CARD", "4111 1111 1111 1111", "my card {} was charged twice"),
    _one("CARD", "4111-1111-1111-1111", "charged on {} yesterday"),
    _one("CARD", "4111111111111111", "card number {} exp 12/25"),
    _one("CARD", "3782 822463 10005", "amex {} declined"),
    _one("CARD", "5555555555554444", "mastercard {}, cvv not shared"),
    _one("CARD", "5105-1051-0510-5100", "card {} shows two pending charges"),
    _one("CARD", "3056 930902 5904", "diners {} was refused"),
    _one("CARD", "6011 1111 1111 1117", "discover {} 09/27 please refund"),
    _one("CARD", "4111111111111111", "pasted from the export:\nid,card,exp\n1,{},12/25"),
    # --- IBAN -----------------------------------------------------------------
    _one("IBAN", "GB82 WEST 1234 5698 7654 32", "please refund to {} thanks"),
    _one("IBAN", "DE89370400440532013000", "IBAN: {}."),
    _one("IBAN", "FR14 2004 1010 0505 0001 3M02 606", "{} is my account"),
    _one("IBAN", "NL91ABNA0417164300", "pay {} (Dutch account)"),
    _one("IBAN", "BE68 5390 0754 7034", "send it to {} ASAP please"),
    # --- SLACK_TOKEN ----------------------------------------------------------
    _one("SLACK_TOKEN", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "bot {}"),
    _one("SLACK_TOKEN", "xoxp-123456789012-123456789012-123456789012-0a1b2c3d", "user {}!"),
    _one("SLACK_TOKEN", "xoxa-2-1234567890-abcdefABCDEF", "workspace token {} leaked"),
    _one("SLACK_TOKEN", "xoxr-1234567890-abcdefghijkl", "refresh with {}"),
    _one("SLACK_TOKEN", "xoxs-9876543210-zyxwvutsrqpo", "legacy {} still works"),
    _one("SLACK_TOKEN", "xapp-1-A0123BCDEF-1234567890123-abcdef0123456789", "app token: {}"),
    # --- API_KEY --------------------------------------------------------------
    _one("API_KEY", "sk-abcdef0123456789abcdef0123456789", "my key is {}"),
    _one("API_KEY", "sk-proj-Ab3dEf6hIjKlMn0pQrStUv_wXyZ-12", "OPENAI_API_KEY={}"),
    _one("API_KEY", "sk-0123456789abcdef0123456789abcdef", "DeepSeek key: {}, rotate it"),
    _one("API_KEY", "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e", '{{"api_key": "{}"}}'),
    # --- AWS_KEY --------------------------------------------------------------
    _one("AWS_KEY", "AKIAIOSFODNN7EXAMPLE", "{} is in the config"),
    _one("AWS_KEY", "ASIAY34FZKBOKMUTVV7A", "temporary creds {} expired"),
    _one("AWS_KEY", AWS_SECRET_SAMPLE, "aws_secret_access_key = {}"),
    _one("AWS_KEY", AWS_SECRET_SAMPLE, 'AWS_SECRET_ACCESS_KEY="{}"'),
    # --- JWT ------------------------------------------------------------------
    _one("JWT", JWT_SAMPLE, "Authorization: Bearer {}"),
    _one("JWT", JWT_SAMPLE, "the callback was https://app.example.com/cb?token={}&state=1"),
    _one("JWT", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", "unsigned {} works?!"),
    # --- URL_CREDENTIALS: only `user:password` is replaced ---------------------
    _one("URL_CREDENTIALS", "user:pass", "see https://{}@host.example.com/dash"),
    _one("URL_CREDENTIALS", "admin:s3cret", "DATABASE_URL=postgres://{}@db:5432/x"),
    _one("URL_CREDENTIALS", ":password", "cache is redis://{}@cache.internal:6379/0"),
    _one("URL_CREDENTIALS", "u:p", "try ftp://{}@h"),
    _one("URL_CREDENTIALS", "bob:alice@example.com", "clone https://{}@git.internal/app.git"),
    _one("URL_CREDENTIALS", "deploy:ghp_abc123", "remote https://{}@github.com/org/repo"),
    # --- several kinds in one message -----------------------------------------
    Case(
        "I'm jane@example.com, card 4111 1111 1111 1111, call +44 20 7946 0958",
        (
            ("EMAIL", "jane@example.com"),
            ("CARD", "4111 1111 1111 1111"),
            ("PHONE", "+44 20 7946 0958"),
        ),
    ),
    Case(
        f"token {JWT_SAMPLE} and key sk-abcdef0123456789abcdef0123456789 for ops@example.com",
        (
            ("JWT", JWT_SAMPLE),
            ("API_KEY", "sk-abcdef0123456789abcdef0123456789"),
            ("EMAIL", "ops@example.com"),
        ),
    ),
    Case(
        "😀 refund GB82 WEST 1234 5698 7654 32 or card 5555555555554444 🙏",
        (("IBAN", "GB82 WEST 1234 5698 7654 32"), ("CARD", "5555555555554444")),
    ),
]

# Each must come back unchanged.
LOOK_ALIKES: list[str] = [
    "order #123456 has not shipped",
    "we have used it since 2024",
    "the outage was on 2024-05-01 at 10:30 UTC",
    "the meeting is at 2024-05-01T10:30:00Z",
    "build 20240501103000123 is the broken one",
    "revenue 1,234,567,890,123,456 in the test data",
    "upgrading to v2.3.1 fixed it",
    "running build 1.2.3.4 on the edge nodes",
    "server 192.168.1.10 is down, port 10.0.0.1:8080 too",
    "dial extension 555-0132 at the front desk",
    "the plan costs $1,299.00 a year",
    "same as ticket 12345",
    "the table has 1 000 000 rows",
    "+10 000 000 downloads this year",
    "test card 1234 5678 9012 3456 is a placeholder",
    "4111 1111 1111 1112 was rejected as invalid",
    "epoch 1714567890123 in ms",
    "latency 0.4111111111111111 s",
    "IBAN GB82 WEST 1234 5698 7654 33 bounced",
    "DE89370400440532013001 is not valid",
    "our sk-8 board is risk-free with the desk-top layout",
    "xoxo from the team",
    "e.g. the export",
    "it loads index.min.js and app.bundle.css",
    "see https://status.example.com/incidents/42?tab=updates",
    "@here the deploy is done, @channel too",
    "request id 123e4567-e89b-12d3-a456-426614174000",
    "fixed in a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
    "button colour #ff5733 and #FFF",
    "root@localhost gets the cron mail",
    "remote is git@github.com:acme/app.git",
    "DATABASE_URL=postgres://bot@db.internal/support",
    "icon@2x.png is blurry",
    "foo@ is not an address",
    "eyJ is how base64 JSON starts",
    "tracking 1Z999AA10123456784",
    "the form wants ###-###-####",
    "AKIA is the prefix of access key ids",
    "sk-test-fake-key is our test key",
]
